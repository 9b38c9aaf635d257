//! HTML: a small lenient tokenizer plus a stack-based block builder.
//!
//! Real pages (and the PostgreSQL manual's DocBook XHTML) are often
//! malformed, so nothing here trusts the markup: elements close implicitly,
//! unknown entities stay verbatim, an unterminated construct runs to the end
//! of input. Every emitted byte maps back to its source through
//! [`MappedText`]. Both passes are iterative and linear in the input, so deep
//! nesting cannot overflow the call stack and huge pages cannot go quadratic.

use super::{Block, Parsed, RawRow, TextKind};
use crate::mapped::MappedText;
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

/// Parses an HTML document into blocks in reading order; never panics.
pub fn parse(src: &str) -> Parsed {
    let mut builder = Builder::new(src);
    let mut tokens = Tokenizer::new(src);
    while let Some(token) = tokens.next_token() {
        match token {
            Token::Text(range) => builder.text(range),
            Token::Start(tag) => builder.start(&tag),
            Token::End { name, range } => builder.end(&name, range),
        }
    }
    builder.finish()
}

// ---------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------

/// A start tag, with only the attributes the builder looks at.
struct StartTag {
    /// ASCII-lowercased name.
    name: String,
    /// Byte range of the whole tag, `<` to `>`.
    range: Range<usize>,
    /// `<x/>`: honoured for every element, since XHTML (DocBook) relies on it.
    self_closing: bool,
    class: Option<Range<usize>>,
    role: Option<Range<usize>>,
    /// `<ol start="N">`.
    start: Option<Range<usize>>,
}

enum Token {
    /// Character data, entities not yet decoded.
    Text(Range<usize>),
    Start(StartTag),
    End {
        name: String,
        range: Range<usize>,
    },
}

/// Splits the source into text and tags; comments, doctypes, CDATA and
/// processing instructions are skipped. Every scan moves forward only.
struct Tokenizer<'a> {
    src: &'a str,
    pos: usize,
    /// After `<script>`, `<title>` etc.: the content is text up to `</name`.
    raw: Option<String>,
}

impl<'a> Tokenizer<'a> {
    fn new(src: &'a str) -> Self {
        Self {
            src,
            pos: 0,
            raw: None,
        }
    }

    fn next_token(&mut self) -> Option<Token> {
        if let Some(name) = self.raw.take() {
            let end = find_raw_end(self.src, self.pos, &name);
            if end > self.pos {
                let range = self.pos..end;
                self.pos = end;
                return Some(Token::Text(range));
            }
        }
        let bytes = self.src.as_bytes();
        while self.pos < bytes.len() {
            let at = self.pos;
            if bytes[at] != b'<' {
                return Some(self.text_until_lt(at));
            }
            match bytes.get(at + 1) {
                Some(c) if c.is_ascii_alphabetic() => return self.start_tag(at),
                Some(b'/') => match bytes.get(at + 2) {
                    Some(c) if c.is_ascii_alphabetic() => return self.end_tag(at),
                    Some(b'>') => self.pos = at + 3,
                    Some(_) => self.pos = after_gt(bytes, at + 2),
                    None => return Some(self.text_until_lt(at)),
                },
                Some(b'!') => self.pos = skip_declaration(self.src, at),
                Some(b'?') => self.pos = after_gt(bytes, at + 2),
                _ => return Some(self.text_until_lt(at)),
            }
        }
        None
    }

    /// Text from `at` (possibly a literal `<`) up to the next `<`.
    fn text_until_lt(&mut self, at: usize) -> Token {
        let end = find_byte(self.src.as_bytes(), at + 1, b'<');
        self.pos = end;
        Token::Text(at..end)
    }

    /// Parses `<name attrs...>` at `at`. A tag cut off by the end of input
    /// is dropped with everything after it, as browsers do.
    fn start_tag(&mut self, at: usize) -> Option<Token> {
        let bytes = self.src.as_bytes();
        let mut i = at + 1;
        while i < bytes.len() && !is_tag_stop(bytes[i]) {
            i += 1;
        }
        let mut tag = StartTag {
            name: self.src[at + 1..i].to_ascii_lowercase(),
            range: at..at,
            self_closing: false,
            class: None,
            role: None,
            start: None,
        };
        loop {
            while i < bytes.len() && (is_space(bytes[i]) || bytes[i] == b'/') {
                tag.self_closing = bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'>');
                i += 1;
            }
            match bytes.get(i) {
                None => return self.eof(),
                Some(b'>') => break,
                Some(_) => {}
            }
            let Some((name, value, next)) = attribute(self.src, i) else {
                return self.eof();
            };
            let slot = if name.eq_ignore_ascii_case("class") {
                Some(&mut tag.class)
            } else if name.eq_ignore_ascii_case("role") {
                Some(&mut tag.role)
            } else if name.eq_ignore_ascii_case("start") {
                Some(&mut tag.start)
            } else {
                None
            };
            // The first of duplicate attributes wins, as in browsers.
            if let Some(slot) = slot {
                slot.get_or_insert(value);
            }
            i = next;
        }
        tag.range = at..i + 1;
        self.pos = i + 1;
        if !tag.self_closing && is_raw_text(&tag.name) {
            self.raw = Some(tag.name.clone());
        }
        Some(Token::Start(tag))
    }

    /// Parses `</name ...>` at `at`; anything between the name and `>` is ignored.
    fn end_tag(&mut self, at: usize) -> Option<Token> {
        let bytes = self.src.as_bytes();
        let mut i = at + 2;
        while i < bytes.len() && !is_tag_stop(bytes[i]) {
            i += 1;
        }
        let name = self.src[at + 2..i].to_ascii_lowercase();
        let gt = find_byte(bytes, i, b'>');
        if gt >= bytes.len() {
            return self.eof();
        }
        self.pos = gt + 1;
        Some(Token::End {
            name,
            range: at..gt + 1,
        })
    }

    fn eof(&mut self) -> Option<Token> {
        self.pos = self.src.len();
        None
    }
}

/// One attribute starting at `i` (not whitespace, not `>`): its name, the
/// range of its value (empty when it has none) and where scanning resumes.
/// `None` when a quoted value runs to the end of input.
fn attribute(src: &str, i: usize) -> Option<(&str, Range<usize>, usize)> {
    let bytes = src.as_bytes();
    // The first byte always belongs to the name (even `=`), so we progress.
    let mut end = i + 1;
    while end < bytes.len() && !matches!(bytes[end], b'=' | b'>' | b'/') && !is_space(bytes[end]) {
        end += 1;
    }
    let name = src.get(i..end).unwrap_or("");
    let mut j = skip_spaces(bytes, end);
    if bytes.get(j) != Some(&b'=') {
        return Some((name, end..end, end));
    }
    j = skip_spaces(bytes, j + 1);
    match bytes.get(j) {
        None => None,
        Some(&q @ (b'"' | b'\'')) => {
            let close = find_byte(bytes, j + 1, q);
            (close < bytes.len()).then(|| (name, j + 1..close, close + 1))
        }
        Some(_) => {
            let mut k = j;
            while k < bytes.len() && bytes[k] != b'>' && !is_space(bytes[k]) {
                k += 1;
            }
            Some((name, j..k, k))
        }
    }
}

/// Skips `<!-- -->`, `<![CDATA[ ]]>` or `<!...>` at `at`; returns where text resumes.
fn skip_declaration(src: &str, at: usize) -> usize {
    let rest = &src[at..];
    let (from, close) = if let Some(body) = rest.strip_prefix("<!--") {
        // `<!-->` and `<!--->` are complete (empty) comments.
        if body.starts_with('>') {
            return at + 5;
        }
        if body.starts_with("->") {
            return at + 6;
        }
        (at + 4, "-->")
    } else if rest.starts_with("<![CDATA[") {
        (at + 9, "]]>")
    } else {
        return after_gt(src.as_bytes(), at + 2);
    };
    src[from..]
        .find(close)
        .map_or(src.len(), |k| from + k + close.len())
}

/// Where the content of a raw-text element opened before `from` ends: the
/// start of its end tag, or the end of input.
fn find_raw_end(src: &str, from: usize, name: &str) -> usize {
    let bytes = src.as_bytes();
    let mut i = from;
    while let Some(k) = src.get(i..).and_then(|rest| rest.find("</")) {
        let lt = i + k;
        let name_end = lt + 2 + name.len();
        let matches = bytes
            .get(lt + 2..name_end)
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()));
        if matches && bytes.get(name_end).is_none_or(|&b| is_tag_stop(b)) {
            return lt;
        }
        i = lt + 2;
    }
    src.len()
}

/// Index of the first `needle` at or after `from`, or `bytes.len()`.
fn find_byte(bytes: &[u8], from: usize, needle: u8) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == needle))
        .map_or(bytes.len(), |k| from + k)
}

/// Just past the next `>` at or after `from`, or the end of input.
fn after_gt(bytes: &[u8], from: usize) -> usize {
    (find_byte(bytes, from, b'>') + 1).min(bytes.len())
}

fn skip_spaces(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && is_space(bytes[i]) {
        i += 1;
    }
    i
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// Bytes that end a tag name. All ASCII, so slicing at them is char-safe.
fn is_tag_stop(b: u8) -> bool {
    is_space(b) || b == b'/' || b == b'>'
}

// ---------------------------------------------------------------------------
// Entities
// ---------------------------------------------------------------------------

/// Appends `src[range]` to `out`, decoding character references one by one
/// so each decoded character maps to exactly its entity's bytes.
fn decode_into(src: &str, range: Range<usize>, out: &mut MappedText) {
    let Some(text) = src.get(range.clone()) else {
        return;
    };
    let base = range.start;
    let (mut run, mut i) = (0, 0);
    while let Some(k) = text[i..].find('&') {
        let amp = i + k;
        match decode_entity(&text[amp..]) {
            Some((decoded, len)) => {
                out.push_source(src, base + run..base + amp);
                out.push_decoded(&decoded, base + amp..base + amp + len);
                i = amp + len;
                run = i;
            }
            None => i = amp + 1,
        }
    }
    out.push_source(src, base + run..range.end);
}

/// Decodes the character reference at the start of `s` (which starts with
/// `&`): the replacement and the reference's length in bytes (ASCII only,
/// so the end is a char boundary). `None` leaves it verbatim.
fn decode_entity(s: &str) -> Option<(Cow<'static, str>, usize)> {
    let bytes = s.as_bytes();
    if bytes.get(1) == Some(&b'#') {
        let (radix, digits) = match bytes.get(2) {
            Some(b'x' | b'X') => (16, 3),
            _ => (10, 2),
        };
        let mut i = digits;
        let mut value: u32 = 0;
        while let Some(d) = bytes.get(i).and_then(|&b| char::from(b).to_digit(radix)) {
            value = value.saturating_mul(radix).saturating_add(d);
            i += 1;
        }
        if i == digits {
            return None;
        }
        if bytes.get(i) == Some(&b';') {
            i += 1;
        }
        return Some((Cow::Owned(numeric_char(value).to_string()), i));
    }
    let len = bytes
        .iter()
        .skip(1)
        .take(32)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    if len == 0 || bytes.get(len + 1) != Some(&b';') {
        return None;
    }
    let decoded = match named_entity(&s[1..=len]) {
        Some(d) => Cow::Borrowed(d),
        None => match html_escape::decode_html_entities(&s[..len + 2]) {
            Cow::Owned(d) => Cow::Owned(d),
            Cow::Borrowed(_) => return None,
        },
    };
    Some((decoded, len + 2))
}

/// The character a numeric reference stands for, with HTML's fix-ups:
/// NUL, surrogates and out-of-range values become U+FFFD, and 0x80–0x9F are
/// read as Windows-1252 (pages say `&#150;` meaning an en dash).
fn numeric_char(value: u32) -> char {
    const CP1252: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match value {
        0 => '\u{FFFD}',
        0x80..=0x9F => CP1252[(value - 0x80) as usize],
        _ => char::from_u32(value).unwrap_or('\u{FFFD}'),
    }
}

/// The common named entities, without a table lookup. `&nbsp;` becomes a
/// plain space so it collapses like one; soft hyphens and zero-width spaces
/// vanish.
fn named_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" | "AMP" => "&",
        "lt" | "LT" => "<",
        "gt" | "GT" => ">",
        "quot" | "QUOT" => "\"",
        "apos" => "'",
        "nbsp" | "ensp" | "emsp" | "thinsp" => " ",
        "shy" | "zwsp" | "ZeroWidthSpace" => "",
        "copy" | "COPY" => "©",
        "reg" | "REG" => "®",
        "trade" => "™",
        "hellip" => "…",
        "mdash" => "—",
        "ndash" => "–",
        "lsquo" => "‘",
        "rsquo" => "’",
        "sbquo" => "‚",
        "ldquo" => "“",
        "rdquo" => "”",
        "bdquo" => "„",
        "laquo" => "«",
        "raquo" => "»",
        "bull" => "•",
        "middot" => "·",
        "times" => "×",
        "divide" => "÷",
        "deg" => "°",
        "euro" => "€",
        "pound" => "£",
        "yen" => "¥",
        "cent" => "¢",
        "sect" => "§",
        "para" => "¶",
        "plusmn" => "±",
        "larr" => "←",
        "rarr" => "→",
        "rArr" => "⇒",
        "le" => "≤",
        "ge" => "≥",
        "ne" => "≠",
        "minus" => "−",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// Element classes
// ---------------------------------------------------------------------------

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

/// Elements that end the running paragraph (or put a space between texts
/// inside a heading, item or cell).
fn is_block(name: &str) -> bool {
    heading_level(name).is_some()
        || matches!(
            name,
            "p" | "div"
                | "section"
                | "article"
                | "main"
                | "aside"
                | "header"
                | "footer"
                | "nav"
                | "blockquote"
                | "hgroup"
                | "ul"
                | "ol"
                | "dl"
                | "dt"
                | "dd"
                | "li"
                | "menu"
                | "table"
                | "caption"
                | "thead"
                | "tbody"
                | "tfoot"
                | "tr"
                | "td"
                | "th"
                | "pre"
                | "listing"
                | "xmp"
                | "plaintext"
                | "hr"
                | "figure"
                | "figcaption"
                | "form"
                | "fieldset"
                | "legend"
                | "address"
                | "details"
                | "summary"
                | "center"
                | "dialog"
                | "search"
                | "body"
                | "html"
        )
}

/// Elements dropped with their content: code, styling, chrome and widgets.
fn is_dropped(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "svg"
            | "nav"
            | "iframe"
            | "noembed"
            | "noframes"
            | "textarea"
            | "select"
            | "object"
            | "canvas"
            | "audio"
            | "video"
    )
}

/// Elements whose content the tokenizer must not read as markup.
fn is_raw_text(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "title"
            | "textarea"
            | "xmp"
            | "iframe"
            | "noembed"
            | "noframes"
            | "noscript"
    )
}

fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "basefont"
            | "bgsound"
            | "br"
            | "col"
            | "embed"
            | "frame"
            | "hr"
            | "img"
            | "input"
            | "keygen"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
    )
}

/// Elements allowed in `<head>`; any other start tag ends it.
fn is_head_content(name: &str) -> bool {
    matches!(
        name,
        "head"
            | "title"
            | "meta"
            | "link"
            | "style"
            | "script"
            | "base"
            | "noscript"
            | "template"
            | "basefont"
            | "bgsound"
    )
}

/// Elements generic end tags cannot close past (HTML's "scope").
fn is_scope(name: &str) -> bool {
    matches!(name, "table" | "td" | "th" | "caption")
}

/// Blocks that end a heading which already has text (see `close_implied`).
fn ends_heading(name: &str) -> bool {
    is_list(name) || matches!(name, "p" | "pre" | "table" | "blockquote" | "hr")
}

fn is_list(name: &str) -> bool {
    matches!(name, "ul" | "ol" | "dl" | "menu")
}

fn is_table_part(name: &str) -> bool {
    matches!(
        name,
        "tr" | "td" | "th" | "thead" | "tbody" | "tfoot" | "caption"
    )
}

// ---------------------------------------------------------------------------
// Block builder
// ---------------------------------------------------------------------------

/// What an open element does to the output when it opens and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Formatting only; text flows through.
    Inline,
    /// Splits text: ends the paragraph, or adds a space inside a container.
    Block,
    /// Content discarded; `boundary` if it also splits text.
    Drop {
        boundary: bool,
    },
    /// `<head>`: content discarded except `<title>`.
    Head,
    Title,
    /// Opened the current container (heading, list, pre or table).
    Container,
    /// A ul/ol/dl nested in the list container.
    ListLevel,
    /// li/dt/dd in the list container.
    Item,
    /// tr of the container table.
    Row,
    /// td/th of the container table.
    Cell,
    /// thead/tbody/tfoot of the container table.
    Section {
        head: bool,
    },
    /// caption of the container table.
    Caption,
    /// A table inside a cell of the container table: flattened into the cell.
    NestedTable,
}

struct Open {
    name: String,
    role: Role,
    scope: bool,
    block: bool,
}

/// The structure whose text is being collected. Everything inside it folds
/// into it, so only one is open at a time.
enum Container {
    Heading { level: u8, text: MappedText },
    Pre { text: MappedText },
    List(ListState),
    Table(Box<TableState>),
}

/// Walks the tokens with an explicit element stack, emitting blocks as
/// their elements close.
struct Builder<'a> {
    src: &'a str,
    blocks: Vec<Block>,
    title: Option<String>,
    stack: Vec<Open>,
    /// Stack indices of open elements by name, innermost last, so "is an
    /// `x` open, and where" costs O(1) instead of a stack walk.
    by_name: HashMap<String, Vec<usize>>,
    /// Stack indices of scope elements (table, td, th, caption).
    scopes: Vec<usize>,
    /// Stack indices of block elements, which inline end tags do not cross.
    blocks_open: Vec<usize>,
    container: Option<Container>,
    /// Stack index of the element that opened `container`.
    container_at: usize,
    /// Running paragraph text outside containers.
    para: MappedText,
    dropped: usize,
    in_head: usize,
    /// `Some` while a `<title>` is open.
    title_text: Option<MappedText>,
    /// Just after `<pre>`: a leading newline is not content.
    pre_fresh: bool,
}

impl<'a> Builder<'a> {
    fn new(src: &'a str) -> Self {
        Self {
            src,
            blocks: Vec::new(),
            title: None,
            stack: Vec::new(),
            by_name: HashMap::new(),
            scopes: Vec::new(),
            blocks_open: Vec::new(),
            container: None,
            container_at: 0,
            para: MappedText::new(),
            dropped: 0,
            in_head: 0,
            title_text: None,
            pre_fresh: false,
        }
    }

    fn finish(mut self) -> Parsed {
        let len = self.src.len();
        self.pop_to(0, len, len);
        self.flush_para();
        Parsed {
            title: self.title,
            blocks: self.blocks,
        }
    }

    /// Where text goes right now, or `None` if it is discarded.
    fn sink(&mut self) -> Option<&mut MappedText> {
        if self.dropped > 0 {
            return None;
        }
        if let Some(title) = self.title_text.as_mut() {
            return Some(title);
        }
        if self.in_head > 0 {
            return None;
        }
        Some(match &mut self.container {
            None => &mut self.para,
            Some(Container::Heading { text, .. } | Container::Pre { text }) => text,
            Some(Container::List(list)) => &mut list.seg,
            Some(Container::Table(table)) => table.sink(),
        })
    }

    fn text(&mut self, mut range: Range<usize>) {
        let fresh = std::mem::take(&mut self.pre_fresh);
        let src = self.src;
        let Some(s) = src.get(range.clone()) else {
            return;
        };
        if self.in_head > 0
            && self.dropped == 0
            && self.title_text.is_none()
            && !s.trim().is_empty()
        {
            self.close_named("head", range.start);
        }
        if fresh && matches!(self.container, Some(Container::Pre { .. })) {
            range.start += [("\r\n", 2), ("\n", 1), ("\r", 1)]
                .iter()
                .find(|(nl, _)| s.starts_with(nl))
                .map_or(0, |&(_, n)| n);
        }
        if let Some(sink) = self.sink() {
            decode_into(src, range, sink);
        }
    }

    fn start(&mut self, tag: &StartTag) {
        self.pre_fresh = false;
        let at = tag.range.start;
        let name = tag.name.as_str();
        if self.in_head > 0 && !is_head_content(name) {
            self.close_named("head", at);
        }
        match name {
            "html" | "body" => return,
            "br" => return self.line_break(at),
            "hr" => return self.boundary(at),
            _ if is_void(name) => return,
            _ => {}
        }
        self.close_implied(name, at);
        let role = self.role_for(tag);
        self.on_open(tag, role);
        let idx = self.stack.len();
        self.push(name, role);
        if tag.self_closing {
            self.pop_to(idx, tag.range.end, tag.range.end);
        }
    }

    fn end(&mut self, name: &str, range: Range<usize>) {
        self.pre_fresh = false;
        let (at, end) = (range.start, range.end);
        let table = self.top("table");
        let target = match name {
            "br" => return self.line_break(at),
            "html" | "body" => return,
            "table" => table,
            _ if is_table_part(name) && table.is_some() => {
                self.top(name).filter(|&i| Some(i) > table)
            }
            _ => {
                let found = if heading_level(name).is_some() {
                    self.top_of(&["h1", "h2", "h3", "h4", "h5", "h6"])
                } else {
                    self.top(name)
                };
                // Inline end tags do not close blocks opened inside them
                // (`<b><p>x</b>y</p>` keeps "xy" together).
                let crosses_blocks = is_block(name) || is_dropped(name) || name == "head";
                let floor = if crosses_blocks {
                    self.scopes.last().copied()
                } else {
                    self.scopes.last().max(self.blocks_open.last()).copied()
                };
                // `>=`: an orphan `</td>` may close its own (scope) element.
                found.filter(|&i| floor.is_none_or(|f| i >= f))
            }
        };
        match target {
            Some(i) => self.pop_to(i, at, end),
            None if name == "p" => self.boundary(at),
            None => {}
        }
    }

    /// Closes what a new `name` element implicitly ends: an open paragraph,
    /// a sibling list item, row or cell, a heading it cannot nest in.
    fn close_implied(&mut self, name: &str, at: usize) {
        if is_block(name) && !is_table_part(name) && !matches!(name, "body" | "html") {
            let floor = self.scopes.last().copied();
            if let Some(i) = self.top("p").filter(|&i| floor.is_none_or(|f| i > f)) {
                self.pop_to(i, at, at);
            }
        }
        let top_is_heading = self
            .stack
            .last()
            .is_some_and(|o| heading_level(&o.name).is_some());
        if heading_level(name).is_some() && top_is_heading {
            self.pop_to(self.stack.len() - 1, at, at);
        }
        // Not HTML's rule, but `<h2>Title<p>Body...` is almost always an
        // unclosed heading, and keeping it open would make the rest of the
        // page one heading. A heading that has no text yet may wrap blocks.
        let heading_has_text = matches!(&self.container, Some(Container::Heading { text, .. })
            if !text.as_str().trim().is_empty());
        if heading_has_text && ends_heading(name) {
            self.pop_to(self.container_at, at, at);
        }
        match name {
            "li" => self.close_sibling(&["li"], &["ul", "ol", "menu"], at),
            "dt" | "dd" => self.close_sibling(&["dt", "dd"], &["dl"], at),
            "tr" => self.close_in_table(&["tr"], at),
            "td" | "th" => self.close_in_table(&["td", "th"], at),
            "thead" | "tbody" | "tfoot" => {
                self.close_in_table(&["thead", "tbody", "tfoot", "tr", "td", "th"], at)
            }
            "table" => {
                // `<table><table>` outside a cell starts a new table.
                let cell = self.top_of(&["td", "th", "caption"]);
                if let Some(i) = self.top("table").filter(|&i| Some(i) > cell) {
                    self.pop_to(i, at, at);
                }
            }
            _ => {}
        }
    }

    /// Closes the innermost of `items` unless a list in `stops` (or a scope)
    /// was opened inside it.
    fn close_sibling(&mut self, items: &[&str], stops: &[&str], at: usize) {
        let floor = self.top_of(stops).max(self.scopes.last().copied());
        if let Some(i) = self.top_of(items).filter(|&i| Some(i) > floor) {
            self.pop_to(i, at, at);
        }
    }

    /// Closes the outermost of `parts` open inside the innermost table.
    fn close_in_table(&mut self, parts: &[&str], at: usize) {
        let table = self.top("table");
        let outermost = parts
            .iter()
            .filter_map(|p| self.top(p))
            .filter(|&i| Some(i) > table)
            .min();
        if let Some(i) = outermost {
            self.pop_to(i, at, at);
        }
    }

    fn close_named(&mut self, name: &str, at: usize) {
        if let Some(i) = self.top(name) {
            self.pop_to(i, at, at);
        }
    }

    fn top(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).and_then(|v| v.last().copied())
    }

    fn top_of(&self, names: &[&str]) -> Option<usize> {
        names.iter().filter_map(|n| self.top(n)).max()
    }

    fn role_for(&self, tag: &StartTag) -> Role {
        let name = tag.name.as_str();
        if is_dropped(name) || self.is_navigation(tag) {
            return Role::Drop {
                boundary: is_block(name),
            };
        }
        if self.dropped > 0 {
            return Role::Inline;
        }
        match name {
            "title" => return Role::Title,
            "head" => return Role::Head,
            _ => {}
        }
        let block = if is_block(name) {
            Role::Block
        } else {
            Role::Inline
        };
        match &self.container {
            None => {
                let opens = heading_level(name).is_some()
                    || is_list(name)
                    || matches!(name, "pre" | "listing" | "xmp" | "plaintext" | "table");
                if opens {
                    Role::Container
                } else {
                    block
                }
            }
            Some(Container::Pre { .. }) => Role::Inline,
            Some(Container::Heading { .. }) => block,
            Some(Container::List(_)) => match name {
                _ if is_list(name) => Role::ListLevel,
                "li" | "dt" | "dd" => Role::Item,
                _ => block,
            },
            Some(Container::Table(t)) if t.nested == 0 => match name {
                "tr" => Role::Row,
                "td" | "th" => Role::Cell,
                "thead" | "tbody" | "tfoot" => Role::Section {
                    head: name == "thead",
                },
                "caption" => Role::Caption,
                "table" => Role::NestedTable,
                _ => block,
            },
            Some(Container::Table(_)) if name == "table" => Role::NestedTable,
            Some(Container::Table(_)) => block,
        }
    }

    /// `role="navigation"`, and DocBook's `navheader`/`navfooter` divs.
    fn is_navigation(&self, tag: &StartTag) -> bool {
        let attr = |r: &Option<Range<usize>>| r.clone().and_then(|r| self.src.get(r)).unwrap_or("");
        attr(&tag.role)
            .split_ascii_whitespace()
            .any(|w| w.eq_ignore_ascii_case("navigation"))
            || attr(&tag.class)
                .split_ascii_whitespace()
                .any(|w| w == "navheader" || w == "navfooter")
    }

    fn on_open(&mut self, tag: &StartTag, role: Role) {
        let at = tag.range.start;
        let name = tag.name.as_str();
        match role {
            Role::Inline => {}
            Role::Block => self.boundary(at),
            Role::Drop { boundary } => {
                if boundary {
                    self.boundary(at);
                }
                self.dropped += 1;
            }
            Role::Head => self.in_head += 1,
            Role::Title => self.title_text = Some(MappedText::new()),
            Role::Container => {
                self.container_at = self.stack.len();
                self.open_container(tag);
            }
            Role::ListLevel | Role::Item => {
                let start = self.list_start(tag);
                if let Some(Container::List(list)) = &mut self.container {
                    match role {
                        Role::ListLevel => list.open_level(name, start),
                        _ => list.open_item(name),
                    }
                }
            }
            Role::Row | Role::Cell | Role::Section { .. } | Role::Caption | Role::NestedTable => {
                if let Some(Container::Table(t)) = &mut self.container {
                    match role {
                        Role::Row => t.start_row(at),
                        Role::Cell => t.start_cell(name == "th", at),
                        Role::Section { head } => t.start_section(head, at),
                        Role::Caption => t.in_caption = true,
                        _ => {
                            t.nested += 1;
                            t.sink().push_synthetic(" ", at);
                        }
                    }
                }
            }
        }
    }

    fn on_close(&mut self, role: Role, pos: usize) {
        match role {
            Role::Inline => {}
            Role::Block => self.boundary(pos),
            Role::Drop { boundary } => {
                self.dropped = self.dropped.saturating_sub(1);
                if boundary {
                    self.boundary(pos);
                }
            }
            Role::Head => self.in_head = self.in_head.saturating_sub(1),
            Role::Title => {
                let text = self.title_text.take().unwrap_or_default();
                let text = text.collapse_whitespace();
                if self.title.is_none() && !text.is_empty() {
                    self.title = Some(text.as_str().to_owned());
                }
            }
            Role::Container => self.close_container(pos),
            Role::ListLevel | Role::Item => {
                if let Some(Container::List(list)) = &mut self.container {
                    match role {
                        Role::ListLevel => list.close_level(),
                        _ => list.flush_seg(),
                    }
                }
            }
            Role::Row | Role::Cell | Role::Section { .. } | Role::Caption | Role::NestedTable => {
                if let Some(Container::Table(t)) = &mut self.container {
                    match role {
                        Role::Row => t.finish_row(pos),
                        Role::Cell => t.finish_cell(),
                        Role::Section { .. } => {
                            t.finish_row(pos);
                            t.in_head_section = false;
                        }
                        Role::Caption => t.in_caption = false,
                        _ => {
                            t.nested = t.nested.saturating_sub(1);
                            t.sink().push_synthetic(" ", pos);
                        }
                    }
                }
            }
        }
    }

    fn list_start(&self, tag: &StartTag) -> i64 {
        tag.start
            .clone()
            .and_then(|r| self.src.get(r))
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(1)
    }

    fn push(&mut self, name: &str, role: Role) {
        let idx = self.stack.len();
        match self.by_name.get_mut(name) {
            Some(v) => v.push(idx),
            None => {
                self.by_name.insert(name.to_owned(), vec![idx]);
            }
        }
        let open = Open {
            name: name.to_owned(),
            role,
            scope: is_scope(name),
            block: is_block(name),
        };
        if open.scope {
            self.scopes.push(idx);
        }
        if open.block {
            self.blocks_open.push(idx);
        }
        self.stack.push(open);
    }

    /// Pops the stack down to and including `idx`. The element at `idx`
    /// closes at `end`; the ones above it, closed implicitly, at `at`.
    fn pop_to(&mut self, idx: usize, at: usize, end: usize) {
        while self.stack.len() > idx {
            let Some(open) = self.stack.pop() else {
                break;
            };
            if let Some(v) = self.by_name.get_mut(&open.name) {
                v.pop();
            }
            if open.scope {
                self.scopes.pop();
            }
            if open.block {
                self.blocks_open.pop();
            }
            let pos = if self.stack.len() == idx { end } else { at };
            self.on_close(open.role, pos);
        }
    }

    /// A block boundary: ends the paragraph or list line, or separates
    /// texts with a space inside a heading or table.
    fn boundary(&mut self, at: usize) {
        if self.dropped > 0 || self.title_text.is_some() || self.in_head > 0 {
            return;
        }
        match &mut self.container {
            None => self.flush_para(),
            Some(Container::Pre { .. }) => {}
            Some(Container::List(list)) => list.flush_seg(),
            Some(Container::Heading { text, .. }) => text.push_synthetic(" ", at),
            Some(Container::Table(t)) => t.sink().push_synthetic(" ", at),
        }
    }

    /// `<br>`: a newline in code, a space elsewhere.
    fn line_break(&mut self, at: usize) {
        let nl = if matches!(self.container, Some(Container::Pre { .. })) {
            "\n"
        } else {
            " "
        };
        if let Some(sink) = self.sink() {
            sink.push_synthetic(nl, at);
        }
    }

    fn flush_para(&mut self) {
        let text = std::mem::take(&mut self.para).collapse_whitespace();
        if !text.is_empty() {
            self.blocks.push(Block::Text {
                kind: TextKind::Paragraph,
                text,
            });
        }
    }

    fn open_container(&mut self, tag: &StartTag) {
        self.flush_para();
        let name = tag.name.as_str();
        self.container = Some(if let Some(level) = heading_level(name) {
            Container::Heading {
                level,
                text: MappedText::new(),
            }
        } else if is_list(name) {
            Container::List(ListState::new(name, self.list_start(tag)))
        } else if name == "table" {
            Container::Table(Box::new(TableState::new(tag.range.start)))
        } else {
            self.pre_fresh = true;
            Container::Pre {
                text: MappedText::new(),
            }
        });
    }

    fn close_container(&mut self, pos: usize) {
        match self.container.take() {
            None => {}
            Some(Container::Heading { level, text }) => {
                let text = text.collapse_whitespace();
                if !text.is_empty() {
                    self.blocks.push(Block::Heading { level, text });
                }
            }
            Some(Container::Pre { text }) if !text.as_str().trim().is_empty() => {
                self.blocks.push(Block::Text {
                    kind: TextKind::Code,
                    text,
                });
            }
            Some(Container::Pre { .. }) => {}
            Some(Container::List(mut list)) => {
                list.flush_seg();
                if !list.out.is_empty() {
                    self.blocks.push(Block::Text {
                        kind: TextKind::List,
                        text: list.out,
                    });
                }
            }
            Some(Container::Table(table)) => table.emit(pos, &mut self.blocks),
        }
    }
}

// ---------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------

/// Deeper lists are not indented further, so a pathological nesting cannot
/// make the output quadratic.
const MAX_INDENT: usize = 8;

/// A top-level list being collected: one line per item segment.
struct ListState {
    out: MappedText,
    levels: Vec<ListLevel>,
    /// Text of the current item segment, not yet collapsed.
    seg: MappedText,
}

struct ListLevel {
    ordered: bool,
    next: i64,
    /// What the next line at this level starts with: a bullet for a fresh
    /// item, spaces for a continuation.
    prefix: String,
}

impl ListLevel {
    fn new(name: &str, start: i64) -> Self {
        Self {
            ordered: name == "ol",
            next: start,
            prefix: String::new(),
        }
    }
}

impl ListState {
    fn new(name: &str, start: i64) -> Self {
        Self {
            out: MappedText::new(),
            levels: vec![ListLevel::new(name, start)],
            seg: MappedText::new(),
        }
    }

    fn open_level(&mut self, name: &str, start: i64) {
        self.flush_seg();
        self.levels.push(ListLevel::new(name, start));
    }

    fn close_level(&mut self) {
        self.flush_seg();
        if self.levels.len() > 1 {
            self.levels.pop();
        }
    }

    fn open_item(&mut self, name: &str) {
        self.flush_seg();
        if let Some(level) = self.levels.last_mut() {
            level.prefix = if name == "dd" {
                "  ".to_owned()
            } else if level.ordered {
                let n = level.next;
                level.next = n.saturating_add(1);
                format!("{n}. ")
            } else {
                "- ".to_owned()
            };
        }
    }

    /// Ends the current segment: one output line, indented by depth, with
    /// the item's bullet if it has not been written yet.
    fn flush_seg(&mut self) {
        let seg = std::mem::take(&mut self.seg).collapse_whitespace();
        if seg.is_empty() {
            return;
        }
        let at = seg.full_source_range().map_or(0, |r| r.start);
        let depth = self.levels.len().saturating_sub(1).min(MAX_INDENT);
        let mut lead = "  ".repeat(depth);
        if let Some(level) = self.levels.last_mut() {
            lead.push_str(&level.prefix);
            level.prefix = " ".repeat(level.prefix.len());
        }
        if !self.out.is_empty() {
            self.out.push_synthetic("\n", at);
        }
        self.out.push_synthetic(&lead, at);
        self.out.append(&seg);
    }
}

// ---------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------

/// A top-level table being collected.
struct TableState {
    start: usize,
    /// Depth of tables nested in this one's cells (flattened into the cell).
    nested: usize,
    header: Option<RawRow>,
    rows: Vec<RawRow>,
    row: Option<RowState>,
    cell: Option<MappedText>,
    in_head_section: bool,
    in_caption: bool,
    caption: MappedText,
    /// Stray text outside cells; browsers show it before the table.
    foster: MappedText,
}

struct RowState {
    start: usize,
    cells: Vec<MappedText>,
    all_th: bool,
    in_head: bool,
}

impl TableState {
    fn new(start: usize) -> Self {
        Self {
            start,
            nested: 0,
            header: None,
            rows: Vec::new(),
            row: None,
            cell: None,
            in_head_section: false,
            in_caption: false,
            caption: MappedText::new(),
            foster: MappedText::new(),
        }
    }

    fn sink(&mut self) -> &mut MappedText {
        match (self.in_caption, &mut self.cell) {
            (true, _) => &mut self.caption,
            (false, Some(cell)) => cell,
            (false, None) => &mut self.foster,
        }
    }

    fn start_section(&mut self, head: bool, at: usize) {
        self.finish_row(at);
        self.in_head_section = head;
    }

    fn start_row(&mut self, at: usize) {
        self.finish_row(at);
        self.row = Some(RowState {
            start: at,
            cells: Vec::new(),
            all_th: true,
            in_head: self.in_head_section,
        });
    }

    /// Starts a cell; a cell outside any `<tr>` starts a row of its own.
    fn start_cell(&mut self, th: bool, at: usize) {
        self.finish_cell();
        if self.row.is_none() {
            self.start_row(at);
        }
        if let Some(row) = self.row.as_mut() {
            row.all_th &= th;
        }
        self.cell = Some(MappedText::new());
    }

    fn finish_cell(&mut self) {
        if let Some(cell) = self.cell.take() {
            if let Some(row) = self.row.as_mut() {
                row.cells.push(cell.collapse_whitespace());
            }
        }
    }

    /// Ends the current row at `end`. Rows without text are layout noise.
    fn finish_row(&mut self, end: usize) {
        self.finish_cell();
        let Some(row) = self.row.take() else {
            return;
        };
        if row.cells.iter().all(MappedText::is_empty) {
            return;
        }
        let is_header =
            self.header.is_none() && (row.in_head || (row.all_th && self.rows.is_empty()));
        let raw = RawRow {
            range: row.start..end.max(row.start),
            cells: row.cells,
        };
        if is_header {
            self.header = Some(raw);
        } else {
            self.rows.push(raw);
        }
    }

    /// Emits the caption and stray text as paragraphs, then the table.
    fn emit(mut self, end: usize, blocks: &mut Vec<Block>) {
        self.finish_row(end);
        for text in [&self.caption, &self.foster] {
            let text = text.collapse_whitespace();
            if !text.is_empty() {
                blocks.push(Block::Text {
                    kind: TextKind::Paragraph,
                    text,
                });
            }
        }
        if self.header.is_some() || !self.rows.is_empty() {
            blocks.push(Block::Table {
                range: self.start..end.max(self.start),
                header: self.header,
                rows: self.rows,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(p: &Parsed) -> Vec<(String, String)> {
        p.blocks
            .iter()
            .map(|b| match b {
                Block::Heading { level, text } => (format!("h{level}"), text.as_str().to_owned()),
                Block::Text { kind, text } => (format!("{kind:?}"), text.as_str().to_owned()),
                Block::Table { header, rows, .. } => {
                    let row = |r: &RawRow| {
                        r.cells
                            .iter()
                            .map(|c| c.as_str())
                            .collect::<Vec<_>>()
                            .join("|")
                    };
                    let mut all: Vec<String> =
                        header.iter().map(|h| format!("[{}]", row(h))).collect();
                    all.extend(rows.iter().map(row));
                    ("Table".to_owned(), all.join("\n"))
                }
            })
            .collect()
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// The invariants every parse must keep, whatever the input.
    fn check_ranges(src: &str, parsed: &Parsed) {
        let ok = |r: &Range<usize>| {
            assert!(
                r.start <= r.end && r.end <= src.len(),
                "{r:?} out of {}",
                src.len()
            );
            assert!(
                src.is_char_boundary(r.start) && src.is_char_boundary(r.end),
                "{r:?}"
            );
        };
        let check_text = |t: &MappedText| {
            if let Some(r) = t.full_source_range() {
                ok(&r);
            }
            for (i, c) in t.as_str().char_indices() {
                if let Some(r) = t.source_range(i..i + c.len_utf8()) {
                    ok(&r);
                }
            }
        };
        for block in &parsed.blocks {
            match block {
                Block::Heading { text, .. } | Block::Text { text, .. } => check_text(text),
                Block::Table {
                    range,
                    header,
                    rows,
                } => {
                    ok(range);
                    for row in header.iter().chain(rows) {
                        ok(&row.range);
                        assert!(range.start <= row.range.start && row.range.end <= range.end);
                        row.cells.iter().for_each(check_text);
                    }
                }
            }
        }
    }

    #[test]
    fn headings_keep_their_levels() {
        let p = parse("<h1>One</h1><h3>Three <em>x</em></h3><H6 class=a>Six</H6>");
        assert_eq!(
            texts(&p),
            pairs(&[("h1", "One"), ("h3", "Three x"), ("h6", "Six")])
        );
    }

    #[test]
    fn title_comes_from_head_only_once() {
        let p = parse(
            "<!DOCTYPE html><html><head><meta charset=utf-8><title> A &amp;\n B </title>\
             <title>second</title><style>p{}</style></head><body><p>x</p></body></html>",
        );
        assert_eq!(p.title.as_deref(), Some("A & B"));
        assert_eq!(texts(&p), pairs(&[("Paragraph", "x")]));
    }

    #[test]
    fn paragraph_decodes_entities_and_maps_back() {
        let src = "<div><p class=\"x\">Fish &amp; <b>chips</b>&nbsp;&#163;3 &#x263A; &bogus; &eacute;t&eacute;</p></div>";
        let p = parse(src);
        let Block::Text { kind, text } = &p.blocks[0] else {
            panic!("{:?}", p.blocks)
        };
        assert_eq!(*kind, TextKind::Paragraph);
        assert_eq!(text.as_str(), "Fish & chips £3 ☺ &bogus; été");
        let r = text.full_source_range().unwrap();
        assert!(src[r.clone()].starts_with("Fish &amp;"));
        assert!(src[r].ends_with("&eacute;t&eacute;"));
        // The decoded ampersand maps to its whole entity.
        assert_eq!(&src[text.source_range(5..6).unwrap()], "&amp;");
    }

    #[test]
    fn lists_put_items_on_lines() {
        let p = parse(
            "<ul><li>one<li> two <b>2</b></li>\n<li>parent<ol start=3><li>a</li><li>b</li></ol></li></ul>\
             <dl><dt>term</dt><dd>meaning</dd></dl>",
        );
        assert_eq!(
            texts(&p),
            pairs(&[
                ("List", "- one\n- two 2\n- parent\n  3. a\n  4. b"),
                ("List", "- term\n  meaning"),
            ])
        );
        let Block::Text { text, .. } = &p.blocks[0] else {
            panic!()
        };
        let src_range = text.full_source_range().unwrap();
        assert_eq!(src_range.start, "<ul><li>".len());
    }

    #[test]
    fn pre_keeps_whitespace() {
        let src = "<p>before</p><pre>\n  fn main() {\n      x &lt; <span>y</span>;\n  }\n</pre>";
        let p = parse(src);
        assert_eq!(
            texts(&p),
            pairs(&[
                ("Paragraph", "before"),
                ("Code", "  fn main() {\n      x < y;\n  }\n"),
            ])
        );
    }

    #[test]
    fn table_header_rows_and_ranges() {
        let src = "<p>intro</p><table border=1><caption>Prices</caption>\
                   <thead><tr><th>Plan</th><th>Price</th></tr></thead>\
                   <tbody><tr class=a><td>Pro</td><td> 49 &euro;</td></tr>\n\
                   <tr><td>Free<td>0</tbody></table>after";
        let p = parse(src);
        assert_eq!(
            texts(&p),
            pairs(&[
                ("Paragraph", "intro"),
                ("Paragraph", "Prices"),
                ("Table", "[Plan|Price]\nPro|49 €\nFree|0"),
                ("Paragraph", "after"),
            ])
        );
        let Block::Table {
            range,
            header,
            rows,
        } = &p.blocks[2]
        else {
            panic!()
        };
        assert!(src[range.clone()].starts_with("<table"));
        assert!(src[range.clone()].ends_with("</table>"));
        let header = header.as_ref().unwrap();
        assert_eq!(
            &src[header.range.clone()],
            "<tr><th>Plan</th><th>Price</th></tr>"
        );
        assert_eq!(
            &src[rows[0].range.clone()],
            "<tr class=a><td>Pro</td><td> 49 &euro;</td></tr>"
        );
        // Unclosed: runs to the end of its section.
        assert_eq!(&src[rows[1].range.clone()], "<tr><td>Free<td>0");
        check_ranges(src, &p);
    }

    #[test]
    fn first_row_of_th_is_a_header_and_nested_tables_flatten() {
        let src = "<table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td><table><tr><td>x</td><td>y</td></tr></table></td></tr></table>";
        let p = parse(src);
        assert_eq!(texts(&p), pairs(&[("Table", "[k|v]\na|x y")]));
        check_ranges(src, &p);
    }

    #[test]
    fn empty_tables_emit_nothing() {
        let p = parse("<table><tr><td> </td></tr></table><table></table>");
        assert!(p.blocks.is_empty(), "{:?}", p.blocks);
    }

    #[test]
    fn scripts_styles_and_navigation_are_dropped() {
        let p = parse(
            "<body><script>if (a < b) { document.write('<p>no</p>') }</script>\
             <style>p { color: red }</style><nav><a>Home</a></nav>\
             <div role=\"navigation\">menu</div><div class=\"navfooter x\">prev next</div>\
             <noscript>enable js</noscript><svg><title>icon</title><text>t</text></svg>\
             <header>Site</header><p>kept</p><footer>foot</footer></body>",
        );
        assert_eq!(p.title, None);
        assert_eq!(
            texts(&p),
            pairs(&[
                ("Paragraph", "Site"),
                ("Paragraph", "kept"),
                ("Paragraph", "foot")
            ])
        );
    }

    #[test]
    fn unclosed_paragraphs_and_loose_text() {
        let p = parse("lead<p>one<p>two<br>lines<h2>H</h2>tail<div>in div<p>three");
        assert_eq!(
            texts(&p),
            pairs(&[
                ("Paragraph", "lead"),
                ("Paragraph", "one"),
                ("Paragraph", "two lines"),
                ("h2", "H"),
                ("Paragraph", "tail"),
                ("Paragraph", "in div"),
                ("Paragraph", "three"),
            ])
        );
    }

    #[test]
    fn an_unclosed_heading_ends_at_the_next_paragraph() {
        let p = parse("<h2>Title<p>Body</p><p>More</p></h2><h3><div><p>Wrapped</p></div></h3>");
        assert_eq!(
            texts(&p),
            pairs(&[
                ("h2", "Title"),
                ("Paragraph", "Body"),
                ("Paragraph", "More"),
                ("h3", "Wrapped"),
            ])
        );
    }

    #[test]
    fn inline_end_tags_do_not_split_blocks() {
        let p = parse("<b><p>x</b>y</p><p>a <i>b</p>c");
        assert_eq!(
            texts(&p),
            pairs(&[
                ("Paragraph", "xy"),
                ("Paragraph", "a b"),
                ("Paragraph", "c")
            ])
        );
    }

    #[test]
    fn comments_cdata_and_stray_markup() {
        let p = parse("<p>a<!-- <p>hidden</p> -->b<![CDATA[c]]><?php x ?> 1 < 2 & 3 </> <!x></p><p>z<!-- open");
        assert_eq!(
            texts(&p),
            pairs(&[("Paragraph", "ab 1 < 2 & 3"), ("Paragraph", "z")])
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let depth = 60;
        let mut src = String::new();
        for _ in 0..depth {
            src.push_str("<div><section><ul><li>");
        }
        src.push_str("deep é");
        for _ in 0..depth {
            src.push_str("</li></ul></section></div>");
        }
        let p = parse(&src);
        assert_eq!(p.blocks.len(), 1);
        assert!(texts(&p)[0].1.ends_with("- deep é"));
        check_ranges(&src, &p);

        let huge = "<div>".repeat(100_000) + "x" + &"<ul><li>".repeat(50_000);
        let p = parse(&huge);
        check_ranges(&huge, &p);
    }

    #[test]
    fn postgres_manual_snippet() {
        let src = r##"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8" /><title>9.1. Logical Operators</title><link rel="stylesheet" type="text/css" href="stylesheet.css" /></head><body id="docContent" class="container-fluid col-10"><div class="navheader"><table width="100%" summary="Navigation header"><tr><th colspan="5" align="center">9.1. Logical Operators</th></tr><tr><td width="10%" align="left"><a accesskey="p" href="functions.html" title="Chapter 9. Functions and Operators">Prev</a> </td></tr></table><hr /></div><div class="sect1" id="FUNCTIONS-LOGICAL"><div class="titlepage"><div><div><h2 class="title" style="clear: both"><a id="FUNCTIONS-LOGICAL"></a>9.1. Logical Operators <a href="#FUNCTIONS-LOGICAL" class="id_link">#</a></h2></div></div></div><a id="id-1.5.8.7.2" class="indexterm"></a><p>
    The usual logical operators are available:

</p><div class="table" id="FUNCTIONS-LOGICAL-TABLE"><p class="title"><strong>Table 9.1. Logical Operators</strong></p><div class="table-contents"><table class="table" summary="Logical Operators" border="1"><colgroup><col /><col /></colgroup><thead><tr><th class="func_table_entry"><p class="func_signature">
        Operator
       </p>
       <p>
        Description
       </p></th></tr></thead><tbody><tr><td class="func_table_entry"><p class="func_signature">
        <code class="type">boolean</code> <code class="literal">AND</code> <code class="type">boolean</code>
        &#8594; <code class="returnvalue">boolean</code>
       </p>
       <p>
        Logical AND
       </p></td></tr></tbody></table></div></div><br class="table-break" /><pre class="programlisting">SELECT a &lt; b;
</pre></div><div class="navfooter"><hr /><table width="100%" summary="Navigation footer"><tr><td>Prev</td></tr></table></div></body></html>"##;
        let p = parse(src);
        assert_eq!(p.title.as_deref(), Some("9.1. Logical Operators"));
        assert_eq!(
            texts(&p),
            pairs(&[
                ("h2", "9.1. Logical Operators #"),
                ("Paragraph", "The usual logical operators are available:"),
                ("Paragraph", "Table 9.1. Logical Operators"),
                (
                    "Table",
                    "[Operator Description]\nboolean AND boolean → boolean Logical AND"
                ),
                ("Code", "SELECT a < b;\n"),
            ])
        );
        check_ranges(src, &p);
    }

    #[test]
    fn garbage_edges() {
        for src in [
            "",
            "<",
            "<a",
            "<a href=\"x",
            "</",
            "</a",
            "<!--",
            "<!",
            "<?",
            "&",
            "&#",
            "&#x",
            "&#xZZ;",
            "&#99999999999;",
            "<p>é<",
            "<table><td>é",
            "<pre>",
            "<title>t",
            "<script>x",
            "é&amp",
            "<ul><li><table><tr><td>x</ul>",
            "<tr><td>a</td></tr>",
            "<td>orphan</td></div>",
        ] {
            let p = parse(src);
            check_ranges(src, &p);
        }
        assert_eq!(
            texts(&parse("&#0;&#150;&#x1F600;")),
            pairs(&[("Paragraph", "\u{FFFD}–😀")])
        );
    }

    fn html_soup() -> impl Strategy<Value = String> {
        let pieces = vec![
            "<p>",
            "</p>",
            "<h2>",
            "</h2>",
            "&amp;",
            "&#x41;",
            "&nbsp;",
            "<table>",
            "<tr>",
            "<td>",
            "<th>",
            "</td>",
            "</tr>",
            "</table>",
            "<thead>",
            "<ul>",
            "<li>",
            "</ul>",
            "<ol>",
            "<pre>",
            "</pre>",
            "\n",
            "<!--",
            "-->",
            "<",
            ">",
            "</",
            "é",
            "x",
            " ",
            "<br>",
            "<b>",
            "</b>",
            "<div class=navheader>",
            "</div>",
            "<div>",
            "<script>",
            "</script>",
            "<title>",
            "</title>",
            "<head>",
            "<caption>",
            "<dl><dt>",
            "<dd>",
            "&",
            "#",
            ";",
            "\"",
            "'",
            "=",
            "<a href='",
            "/>",
            "<![CDATA[",
            "]]>",
        ];
        prop::collection::vec(prop::sample::select(pieces), 0..80).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn arbitrary_strings_keep_ranges_valid(src in any::<String>()) {
            let p = parse(&src);
            check_ranges(&src, &p);
        }

        #[test]
        fn html_soup_keeps_ranges_valid(src in html_soup()) {
            let p = parse(&src);
            check_ranges(&src, &p);
        }
    }
}
