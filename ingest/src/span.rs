use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

/// A stable span id: the same content at the same place gives the same id on
/// every re-index, so traces and citations stay valid across runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SpanId(pub String);

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a span is in the document's structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    /// A section: its text is the heading, its byte range the whole section.
    Section,
    /// A paragraph.
    Paragraph,
    /// A list (all its items).
    List,
    /// A code or preformatted block.
    Code,
    /// A table: its text is the header line; rows are its children.
    Table,
    /// A table's header row.
    TableHeader,
    /// A table row; its text carries the header ("Plan: Pro | Price: 49").
    Row,
    /// A sentence of a paragraph or list (or a clause of a long sentence),
    /// kept for compression.
    Sentence,
}

impl SpanKind {
    /// Every kind, in a fixed order.
    pub const ALL: [SpanKind; 8] = [
        SpanKind::Section,
        SpanKind::Paragraph,
        SpanKind::List,
        SpanKind::Code,
        SpanKind::Table,
        SpanKind::TableHeader,
        SpanKind::Row,
        SpanKind::Sentence,
    ];

    /// The lowercase name used in the index, filters and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Section => "section",
            SpanKind::Paragraph => "paragraph",
            SpanKind::List => "list",
            SpanKind::Code => "code",
            SpanKind::Table => "table",
            SpanKind::TableHeader => "table_header",
            SpanKind::Row => "row",
            SpanKind::Sentence => "sentence",
        }
    }

    /// Parses a name from [`SpanKind::as_str`].
    pub fn parse(name: &str) -> Option<SpanKind> {
        SpanKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether spans of this kind are retrieval units (searched by BM25 and
    /// embedded). Sections and tables are containers whose content is in
    /// their children; sentences are units of compression, not retrieval.
    pub fn is_retrievable(self) -> bool {
        matches!(
            self,
            SpanKind::Paragraph | SpanKind::List | SpanKind::Code | SpanKind::Row
        )
    }
}

impl fmt::Display for SpanKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One node of a document's span tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// Stable id.
    pub id: SpanId,
    /// The document it belongs to.
    pub doc_id: String,
    /// What it is.
    pub kind: SpanKind,
    /// The enclosing span (section, block or table); `None` at top level.
    pub parent: Option<SpanId>,
    /// Headings of the enclosing sections, outermost first.
    pub heading_path: Vec<String>,
    /// Byte range in the source (decompressed, for `.gz` files).
    pub byte_range: Range<usize>,
    /// 1-based first and last line of `byte_range`.
    pub line_range: (u32, u32),
    /// The span's text, self-contained (rows carry their header).
    pub text: String,
    /// Token count of `text` in the index's tokenizer.
    pub tokens: u32,
}

/// A parsed document: one file, or one record of a JSONL file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Stable id, derived from the source (and record id).
    pub id: String,
    /// Path of the source file as indexed (a JSONL record names itself in `metadata["record"]`).
    pub source: String,
    /// Title: the format's own, else the first top-level heading, else the file name.
    pub title: String,
    /// blake3 of the source bytes (of the record, for JSONL).
    pub content_hash: String,
    /// Free-form metadata (format, record id, ...).
    pub metadata: BTreeMap<String, String>,
    /// Spans in reading order (pre-order: a parent before its children).
    pub spans: Vec<Span>,
}
