//! What a candidate would add to a rendering, counted in the caller's
//! tokenizer while a bubble is chosen (the rendering itself is counted
//! exactly at the end, and only corrects what line-by-line counting
//! cannot see: BPE merges across line breaks).

use crate::candidate::Candidate;
use crate::render::{doc_heading, section_heading, span_line};
use crate::state::Context;
use crate::table;
use bubble_index::bubble_ingest::{SpanKind, TokenCounter};
use bubble_index::Corpus;
use bubble_retrieval::neighbours::table_of;
use std::collections::{HashMap, HashSet};

/// A two-digit marker: what most markers of a bubble cost.
const MARKER: usize = 10;

/// The tokens a candidate adds to a rendering: its line (text and marker,
/// or a compact table row), plus the document, section and table headings
/// it opens. Each line and heading is counted once per request, in the
/// caller's tokenizer; when that is the index's own, a span's stored count
/// is its text's count and nothing is re-tokenized but table lines.
pub struct CostModel<'a> {
    store: &'a dyn Corpus,
    counter: &'a TokenCounter,
    /// Whether the store's token counts are in the caller's tokenizer.
    native: bool,
    /// What a line adds to its text's count: the marker and line break.
    marker_tokens: usize,
    open_docs: HashSet<String>,
    open_sections: HashSet<String>,
    /// Tables (by table ord) whose header lines are in the rendering.
    open_tables: HashSet<u32>,
    heading_tokens: HashMap<String, usize>,
    /// Per span ord: its own line's tokens, and the header lines its
    /// table opens with.
    lines: HashMap<u32, Line>,
}

#[derive(Debug, Clone, Copy)]
struct Line {
    tokens: usize,
    /// For a row or header row rendered in table form: its table, and the
    /// tokens of the table's header lines.
    table: Option<(u32, usize)>,
}

impl<'a> CostModel<'a> {
    /// A cost model for one selection.
    pub fn new(ctx: &Context<'a>) -> CostModel<'a> {
        let index = ctx.retriever.corpus();
        CostModel {
            store: index,
            counter: ctx.counter,
            native: index.manifest().tokenizer == ctx.counter.name(),
            marker_tokens: ctx.counter.count(&span_line(MARKER, "")),
            open_docs: HashSet::new(),
            open_sections: HashSet::new(),
            open_tables: HashSet::new(),
            heading_tokens: HashMap::new(),
            lines: HashMap::new(),
        }
    }

    /// The cost of adding `c` to what is open now. When even its stored
    /// count exceeds `room` (in the index's own tokenizer), that lower
    /// bound is returned without counting headings.
    pub fn cost(&mut self, c: &Candidate, room: usize) -> usize {
        if self.native && c.tokens as usize > room {
            return c.tokens as usize;
        }
        let line = self.line(c);
        let mut cost = line.tokens;
        if let Some((table, header)) = line.table {
            let open = self.open_tables.contains(&table);
            match c.kind {
                // The header lines are paid by whoever opens the table.
                SpanKind::TableHeader if open => return 0,
                SpanKind::TableHeader => {}
                // A row pays for the header lines it opens (its header
                // comes along, free once the table is open).
                _ if !open => cost += header,
                _ => {}
            }
        }
        if cost > room {
            return cost;
        }
        let counter = self.counter;
        if !self.open_docs.contains(&c.doc_id) {
            // A blank line separates it from the document before.
            let separator = usize::from(!self.open_docs.is_empty());
            cost += separator
                + *self
                    .heading_tokens
                    .entry(format!("doc:{}", c.doc_id))
                    .or_insert_with(|| counter.count(&doc_heading(&c.title)));
        }
        let key = c.section_key();
        if !self.open_sections.contains(&key) {
            cost += *self.heading_tokens.entry(key).or_insert_with(|| {
                section_heading(&c.section, &c.title).map_or(0, |h| counter.count(&h))
            });
        }
        cost
    }

    /// The tokens of `c`'s own line, without the headings it opens.
    pub fn line_tokens(&mut self, c: &Candidate) -> usize {
        self.line(c).tokens
    }

    /// Marks `c`'s document, section and table as open.
    pub fn admit(&mut self, c: &Candidate) {
        self.open_docs.insert(c.doc_id.clone());
        self.open_sections.insert(c.section_key());
        if let Some((table, _)) = self.line(c).table {
            self.open_tables.insert(table);
        }
    }

    fn line(&mut self, c: &Candidate) -> Line {
        if let Some(line) = self.lines.get(&c.ord) {
            return *line;
        }
        let line = self.measure(c);
        self.lines.insert(c.ord, line);
        line
    }

    fn measure(&self, c: &Candidate) -> Line {
        let span = self.store.span(c.ord);
        let text = span.as_ref().map_or("", |s| s.text.as_str());
        let plain = Line {
            tokens: if self.native {
                c.tokens as usize + self.marker_tokens
            } else {
                self.counter.count(&span_line(MARKER, text))
            },
            table: None,
        };
        let Some(t) = table_of(self.store, c.ord) else {
            return plain;
        };
        let Some(header) = t.header.and_then(|h| self.store.span(h)) else {
            return plain;
        };
        let labels = table::labels(&header.text);
        let header_tokens = self.counter.count(&table::header_lines(&labels, MARKER));
        let tokens = match c.kind {
            SpanKind::TableHeader => header_tokens,
            _ => match table::cells(&labels, text) {
                Some(cells) => self.counter.count(&table::row_line(&cells, MARKER)),
                None => return plain,
            },
        };
        Line {
            tokens,
            table: Some((t.table, header_tokens)),
        }
    }
}
