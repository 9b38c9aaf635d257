//! Nesting flat blocks into the span tree, and giving every span its id,
//! heading path, byte and line range, and token count.

use crate::mapped::MappedText;
use crate::parse::{Block, Parsed, RawRow, TextKind};
use crate::sentences::unit_ranges;
use crate::span::{Document, Span, SpanId, SpanKind};
use crate::tokens::TokenCounter;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

/// Where a parsed document came from; everything the tree needs besides blocks.
#[derive(Debug, Clone)]
pub(crate) struct DocSource<'a> {
    /// Line starts of the full source text the block ranges point into
    /// (built once per file: a JSONL file holds thousands of documents).
    pub lines: &'a LineIndex,
    /// Path of the file as indexed.
    pub path: &'a str,
    /// The record id, for one record of a JSONL file.
    pub record: Option<&'a str>,
    /// Title to use when the parser found none and there is no top heading.
    pub fallback_title: &'a str,
    /// blake3 of the document's source bytes.
    pub content_hash: String,
    /// Metadata to store with the document.
    pub metadata: BTreeMap<String, String>,
}

/// Builds a [`Document`] from a parser's blocks.
pub(crate) fn build_document(
    src: DocSource<'_>,
    parsed: Parsed,
    counter: &TokenCounter,
) -> Document {
    let doc_id = doc_id(src.path, src.record);
    let title = parsed
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .or_else(|| first_top_heading(&parsed.blocks))
        .unwrap_or_else(|| src.fallback_title.to_string());
    let mut builder = TreeBuilder {
        doc_id: doc_id.clone(),
        lines: src.lines,
        counter,
        spans: Vec::new(),
        sections: Vec::new(),
        seen: HashMap::new(),
    };
    for block in parsed.blocks {
        builder.add_block(block);
    }
    Document {
        id: doc_id,
        source: src.path.to_string(),
        title,
        content_hash: src.content_hash,
        metadata: src.metadata,
        spans: builder.spans,
    }
}

/// A document id: stable for a path (and record id).
pub(crate) fn doc_id(path: &str, record: Option<&str>) -> String {
    let mut h = blake3::Hasher::new();
    h.update(path.as_bytes());
    if let Some(r) = record {
        h.update(b"\0");
        h.update(r.as_bytes());
    }
    h.finalize().to_hex()[..16].to_string()
}

fn first_top_heading(blocks: &[Block]) -> Option<String> {
    let min = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { level, .. } => Some(*level),
            _ => None,
        })
        .min()?;
    blocks.iter().find_map(|b| match b {
        Block::Heading { level, text } if *level == min => Some(text.as_str().to_string()),
        _ => None,
    })
}

struct TreeBuilder<'a> {
    doc_id: String,
    lines: &'a LineIndex,
    counter: &'a TokenCounter,
    spans: Vec<Span>,
    /// Open sections: (heading level, index in `spans`).
    sections: Vec<(u8, usize)>,
    /// Occurrences of identical (kind, path, text), so duplicates get distinct ids.
    seen: HashMap<blake3::Hash, u32>,
}

impl TreeBuilder<'_> {
    fn add_block(&mut self, block: Block) {
        match block {
            Block::Heading { level, text } => self.open_section(level, &text),
            Block::Text { kind, text } => self.add_text(kind, &text),
            Block::Table {
                range,
                header,
                rows,
            } => self.add_table(range, header, rows),
        }
    }

    fn open_section(&mut self, level: u8, text: &MappedText) {
        let Some(range) = text.full_source_range() else {
            return;
        };
        while self.sections.last().is_some_and(|(l, _)| *l >= level) {
            self.sections.pop();
        }
        let idx = self.push(SpanKind::Section, text.as_str().to_string(), range);
        self.sections.push((level, idx));
    }

    fn add_text(&mut self, kind: TextKind, text: &MappedText) {
        let Some(range) = text.full_source_range() else {
            return;
        };
        let span_kind = match kind {
            TextKind::Paragraph => SpanKind::Paragraph,
            TextKind::List => SpanKind::List,
            TextKind::Code => SpanKind::Code,
        };
        let idx = self.push(span_kind, text.as_str().to_string(), range);
        if span_kind == SpanKind::Code {
            return;
        }
        let sentences = unit_ranges(text.as_str());
        // A one-unit block is its own unit: no child needed.
        if sentences.len() < 2 {
            return;
        }
        let parent = self.spans[idx].id.clone();
        for r in sentences {
            // A lone list marker or punctuation is no unit of meaning.
            if !text.as_str()[r.clone()].chars().any(char::is_alphanumeric) {
                continue;
            }
            if let Some(src) = text.source_range(r.clone()) {
                let s = text.as_str()[r].to_string();
                self.push_child(SpanKind::Sentence, s, src, Some(parent.clone()));
            }
        }
    }

    fn add_table(&mut self, range: Range<usize>, header: Option<RawRow>, rows: Vec<RawRow>) {
        let labels: Vec<String> = header
            .as_ref()
            .map(|h| h.cells.iter().map(|c| c.as_str().to_string()).collect())
            .unwrap_or_default();
        let table_text = if labels.is_empty() {
            rows.first()
                .map(|r| join_cells(&r.cells))
                .unwrap_or_default()
        } else {
            labels.join(" | ")
        };
        if table_text.is_empty() && rows.is_empty() {
            return;
        }
        let table = self.push(SpanKind::Table, table_text, range);
        let parent = Some(self.spans[table].id.clone());
        if let Some(h) = &header {
            let text = labels.join(" | ");
            if !text.trim().is_empty() {
                self.push_child(SpanKind::TableHeader, text, h.range.clone(), parent.clone());
            }
        }
        for row in rows {
            let text = row_text(&labels, &row.cells);
            if !text.is_empty() {
                self.push_child(SpanKind::Row, text, row.range, parent.clone());
            }
        }
    }

    /// Pushes a span under the current section; returns its index.
    fn push(&mut self, kind: SpanKind, text: String, range: Range<usize>) -> usize {
        let parent = self.sections.last().map(|(_, i)| self.spans[*i].id.clone());
        // A section's own heading is in its path; its parent's path is the prefix.
        if kind != SpanKind::Section {
            return self.push_child(kind, text, range, parent);
        }
        let idx = self.push_child(kind, text, range, parent);
        let heading = self.spans[idx].text.clone();
        self.spans[idx].heading_path.push(heading);
        idx
    }

    fn push_child(
        &mut self,
        kind: SpanKind,
        text: String,
        range: Range<usize>,
        parent: Option<SpanId>,
    ) -> usize {
        let heading_path: Vec<String> = self
            .sections
            .last()
            .map(|(_, i)| self.spans[*i].heading_path.clone())
            .unwrap_or_default();
        // Sections extend to the end of their last descendant.
        for (_, i) in &self.sections {
            let s = &mut self.spans[*i];
            s.byte_range.end = s.byte_range.end.max(range.end);
            s.line_range.1 = self.lines.line_of(s.byte_range.end.saturating_sub(1));
        }
        let id = self.span_id(kind, &heading_path, &text);
        let line_range = (
            self.lines.line_of(range.start),
            self.lines
                .line_of(range.end.saturating_sub(1).max(range.start)),
        );
        let tokens = u32::try_from(self.counter.count(&text)).unwrap_or(u32::MAX);
        self.spans.push(Span {
            id,
            doc_id: self.doc_id.clone(),
            kind,
            parent,
            heading_path,
            byte_range: range,
            line_range,
            text,
            tokens,
        });
        self.spans.len() - 1
    }

    fn span_id(&mut self, kind: SpanKind, path: &[String], text: &str) -> SpanId {
        let mut h = blake3::Hasher::new();
        for part in [self.doc_id.as_str(), kind.as_str()]
            .into_iter()
            .chain(path.iter().map(String::as_str))
            .chain([text])
        {
            h.update(part.as_bytes());
            h.update(b"\x1f");
        }
        let key = h.finalize();
        let n = self.seen.entry(key).or_insert(0);
        h.update(&n.to_le_bytes());
        *n += 1;
        SpanId(h.finalize().to_hex()[..16].to_string())
    }
}

fn join_cells(cells: &[MappedText]) -> String {
    cells
        .iter()
        .map(MappedText::as_str)
        .filter(|c| !c.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// "Plan: Pro | Price: 49": each non-empty cell labelled with its header.
fn row_text(labels: &[String], cells: &[MappedText]) -> String {
    if labels.is_empty() {
        return join_cells(cells);
    }
    cells
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.is_empty())
        .map(|(i, c)| match labels.get(i).filter(|l| !l.is_empty()) {
            Some(label) => format!("{label}: {}", c.as_str()),
            None => c.as_str().to_string(),
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Maps byte offsets to 1-based line numbers.
#[derive(Debug)]
pub(crate) struct LineIndex {
    newlines: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> LineIndex {
        LineIndex {
            newlines: text
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        }
    }

    fn line_of(&self, byte: usize) -> u32 {
        u32::try_from(self.newlines.partition_point(|&n| n < byte) + 1).unwrap_or(u32::MAX)
    }
}
