//! The block builder: walks the tokens with an element stack and emits blocks.

use super::elements::{
    ends_heading, heading_level, is_block, is_dropped, is_head_content, is_list, is_scope,
    is_table_part, is_void,
};
use super::entities::decode_into;
use super::lexer::StartTag;
use super::lists::ListState;
use super::tables::TableState;
use crate::mapped::MappedText;
use crate::parse::{Block, Parsed, TextKind};
use std::collections::HashMap;
use std::ops::Range;

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
pub(super) struct Builder<'a> {
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
    pub(super) fn new(src: &'a str) -> Self {
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

    pub(super) fn finish(mut self) -> Parsed {
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

    pub(super) fn text(&mut self, mut range: Range<usize>) {
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

    pub(super) fn start(&mut self, tag: &StartTag) {
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

    pub(super) fn end(&mut self, name: &str, range: Range<usize>) {
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
