//! The tokenizer: splits the source into text, start tags and end tags.

use super::elements::is_raw_text;
use std::ops::Range;

/// A start tag, with only the attributes the builder looks at.
pub(super) struct StartTag {
    /// ASCII-lowercased name.
    pub(super) name: String,
    /// Byte range of the whole tag, `<` to `>`.
    pub(super) range: Range<usize>,
    /// `<x/>`: honoured for every element, since XHTML (DocBook) relies on it.
    pub(super) self_closing: bool,
    pub(super) class: Option<Range<usize>>,
    pub(super) role: Option<Range<usize>>,
    /// `<ol start="N">`.
    pub(super) start: Option<Range<usize>>,
}

pub(super) enum Token {
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
pub(super) struct Tokenizer<'a> {
    src: &'a str,
    pos: usize,
    /// After `<script>`, `<title>` etc.: the content is text up to `</name`.
    raw: Option<String>,
}

impl<'a> Tokenizer<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        Self {
            src,
            pos: 0,
            raw: None,
        }
    }

    pub(super) fn next_token(&mut self) -> Option<Token> {
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
