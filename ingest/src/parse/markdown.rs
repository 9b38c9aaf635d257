//! Markdown (CommonMark + GFM tables) via pulldown-cmark's offset iterator,
//! which gives every event its source range: the basis of exact citations.

use super::{Block, Parsed, RawRow, TextKind};
use crate::mapped::MappedText;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
use std::ops::Range;

/// Parses Markdown into blocks.
pub fn parse(src: &str) -> Parsed {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    let mut state = State::new(src);
    for (event, range) in Parser::new_ext(src, opts).into_offset_iter() {
        state.on(event, range);
    }
    state.finish()
}

#[derive(Default)]
struct ListState {
    /// Next number of each open list (None for bullets).
    numbers: Vec<Option<u64>>,
    /// (indent + marker, where the item starts in the source, item content)
    /// of every item, nested ones included.
    items: Vec<(String, usize, MappedText)>,
}

#[derive(Default)]
struct TableState {
    range: Range<usize>,
    header: Option<RawRow>,
    rows: Vec<RawRow>,
    row: Option<RawRow>,
    cell: Option<MappedText>,
}

struct State<'a> {
    src: &'a str,
    blocks: Vec<Block>,
    heading: Option<(u8, MappedText)>,
    paragraph: Option<MappedText>,
    code: Option<MappedText>,
    list: Option<ListState>,
    table: Option<TableState>,
}

impl<'a> State<'a> {
    fn new(src: &'a str) -> Self {
        State {
            src,
            blocks: Vec::new(),
            heading: None,
            paragraph: None,
            code: None,
            list: None,
            table: None,
        }
    }

    fn on(&mut self, event: Event<'_>, range: Range<usize>) {
        match event {
            Event::Start(tag) => self.start(tag, range),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.text(&text, range),
            Event::Code(text) => self.inline_code(&text, range),
            Event::SoftBreak | Event::HardBreak => {
                let sep = if self.code.is_some() { "\n" } else { " " };
                if let Some(sink) = self.sink() {
                    sink.push_synthetic(sep, range.start);
                }
            }
            Event::TaskListMarker(done) => {
                if let Some(sink) = self.sink() {
                    sink.push_synthetic(if done { "[x] " } else { "[ ] " }, range.start);
                }
            }
            // Raw HTML, footnotes, math and rules carry no prose we can cite cleanly.
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>, range: Range<usize>) {
        match tag {
            Tag::Heading { level, .. } => self.heading = Some((level as u8, MappedText::new())),
            Tag::Paragraph => {
                if let Some(list) = &mut self.list {
                    // Paragraphs inside an item stay in the item.
                    if let Some((_, _, item)) = list.items.last_mut() {
                        item.push_synthetic(" ", range.start);
                    }
                } else if self.table.is_none() {
                    self.paragraph = Some(MappedText::new());
                }
            }
            Tag::CodeBlock(_) => self.code = Some(MappedText::new()),
            Tag::List(first) => {
                let list = self.list.get_or_insert_with(ListState::default);
                list.numbers.push(first);
            }
            Tag::Item => {
                if let Some(list) = &mut self.list {
                    let depth = list.numbers.len().saturating_sub(1);
                    let marker = match list.numbers.last_mut() {
                        Some(Some(n)) => {
                            *n += 1;
                            format!("{}. ", *n - 1)
                        }
                        _ => "- ".to_string(),
                    };
                    let marker = format!("{}{marker}", "  ".repeat(depth));
                    list.items.push((marker, range.start, MappedText::new()));
                }
            }
            Tag::Table(_) => {
                self.table = Some(TableState {
                    range,
                    ..TableState::default()
                })
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(t) = &mut self.table {
                    t.row = Some(RawRow {
                        range,
                        cells: Vec::new(),
                    });
                }
            }
            Tag::TableCell => {
                if let Some(t) = &mut self.table {
                    t.cell = Some(MappedText::new());
                }
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Heading(_) => {
                if let Some((level, text)) = self.heading.take() {
                    self.emit_text(None, text, level);
                }
            }
            TagEnd::Paragraph => {
                if let Some(text) = self.paragraph.take() {
                    self.emit_text(Some(TextKind::Paragraph), text, 0);
                }
            }
            TagEnd::CodeBlock => {
                if let Some(code) = self.code.take() {
                    if let Some((_, _, item)) = self.list.as_mut().and_then(|l| l.items.last_mut())
                    {
                        item.push_synthetic(" ", code.full_source_range().map_or(0, |r| r.start));
                        item.append(&code);
                    } else {
                        self.emit_text(Some(TextKind::Code), code, 0);
                    }
                }
            }
            TagEnd::List(_) => self.end_list(),
            TagEnd::TableCell => {
                if let Some(t) = &mut self.table {
                    if let (Some(cell), Some(row)) = (t.cell.take(), t.row.as_mut()) {
                        row.cells.push(cell.collapse_whitespace());
                    }
                }
            }
            TagEnd::TableHead => {
                if let Some(t) = &mut self.table {
                    t.header = t.row.take();
                }
            }
            TagEnd::TableRow => {
                if let Some(t) = &mut self.table {
                    t.rows.extend(t.row.take());
                }
            }
            TagEnd::Table => {
                if let Some(t) = self.table.take() {
                    self.blocks.push(Block::Table {
                        range: t.range,
                        header: t.header,
                        rows: t.rows,
                    });
                }
            }
            _ => {}
        }
    }

    fn end_list(&mut self) {
        let Some(list) = &mut self.list else { return };
        list.numbers.pop();
        if !list.numbers.is_empty() {
            return;
        }
        let Some(list) = self.list.take() else { return };
        let mut text = MappedText::new();
        for (marker, item_start, item) in list.items {
            let body = item.collapse_whitespace();
            let Some(at) = body.full_source_range().map(|r| r.start) else {
                continue;
            };
            let mut collapsed = MappedText::new();
            // The marker stands for the source's own marker, so the list's
            // range starts at its first bullet.
            collapsed.push_decoded(&marker, item_start.min(at)..at);
            collapsed.append(&body);
            if !text.is_empty() {
                text.push_synthetic("\n", at);
            }
            text.append(&collapsed);
        }
        if !text.is_empty() {
            self.blocks.push(Block::Text {
                kind: TextKind::List,
                text,
            });
        }
    }

    /// Emits a heading (`kind` None) or a text block, whitespace collapsed except for code.
    fn emit_text(&mut self, kind: Option<TextKind>, text: MappedText, level: u8) {
        let text = match kind {
            Some(TextKind::Code) => trim_trailing_newline(text),
            _ => text.collapse_whitespace(),
        };
        if text.as_str().trim().is_empty() {
            return;
        }
        self.blocks.push(match kind {
            None => Block::Heading { level, text },
            Some(kind) => Block::Text { kind, text },
        });
    }

    /// Where inline text goes now, innermost context first.
    fn sink(&mut self) -> Option<&mut MappedText> {
        if let Some((_, h)) = &mut self.heading {
            return Some(h);
        }
        if let Some(t) = &mut self.table {
            return t.cell.as_mut();
        }
        if let Some(c) = &mut self.code {
            return Some(c);
        }
        if let Some(l) = &mut self.list {
            return l.items.last_mut().map(|(_, _, t)| t);
        }
        self.paragraph.as_mut()
    }

    fn text(&mut self, text: &CowStr<'_>, range: Range<usize>) {
        let src = self.src;
        if let Some(sink) = self.sink() {
            push_event_text(sink, src, text, range);
        }
    }

    fn inline_code(&mut self, text: &CowStr<'_>, range: Range<usize>) {
        let src = self.src;
        // The event range includes the backticks; cite the code inside them.
        let inner = src
            .get(range.clone())
            .and_then(|s| s.find(text.as_ref()).map(|at| range.start + at))
            .map(|start| start..start + text.len());
        if let Some(sink) = self.sink() {
            match inner {
                Some(r) => sink.push_source(src, r),
                None => sink.push_decoded(text, range),
            }
        }
    }

    fn finish(mut self) -> Parsed {
        // Unterminated constructs cannot happen with pulldown-cmark, but a
        // list left open by a bug must not lose its text.
        if self.list.is_some() {
            if let Some(l) = &mut self.list {
                l.numbers.truncate(1);
            }
            self.end_list();
        }
        Parsed {
            title: None,
            blocks: self.blocks,
        }
    }
}

fn trim_trailing_newline(t: MappedText) -> MappedText {
    let keep = t.as_str().trim_end_matches(['\n', '\r']).len();
    t.slice(0..keep)
}

fn push_event_text(sink: &mut MappedText, src: &str, text: &str, range: Range<usize>) {
    if src.get(range.clone()) == Some(text) {
        sink.push_source(src, range);
    } else if let Some(at) = src.get(range.clone()).and_then(|s| s.find(text)) {
        // Text events inside a range that also holds markup (e.g. code block lines).
        let start = range.start + at;
        sink.push_source(src, start..start + text.len());
    } else {
        sink.push_decoded(text, range);
    }
}
