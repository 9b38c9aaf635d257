//! Format parsers. Each turns source text into a flat list of [`Block`]s in
//! reading order; the tree builder (`crate::tree`) nests them into sections.
//! Parsers never panic on any input and never emit a range outside the source.

pub mod csv;
pub mod html;
pub mod jsonl;
pub mod markdown;
pub mod text;

use crate::mapped::MappedText;
use std::ops::Range;

/// What a parser found: a title if the format names one, and blocks.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The document's own title (`<title>`, a record's `title`), if any.
    pub title: Option<String>,
    /// Blocks in reading order.
    pub blocks: Vec<Block>,
}

/// The kind of a flat text block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// A paragraph (also block quotes and definition text).
    Paragraph,
    /// A whole list, items separated by newlines.
    List,
    /// A code or preformatted block, whitespace kept.
    Code,
}

/// One block of a document, before nesting.
#[derive(Debug, Clone)]
pub enum Block {
    /// A heading; `level` 1 is the outermost.
    Heading {
        /// 1 for `#`/`<h1>`, 2 for `##`/`<h2>`, ...
        level: u8,
        /// The heading text, whitespace collapsed.
        text: MappedText,
    },
    /// A paragraph, list or code block.
    Text {
        /// Which kind of block.
        kind: TextKind,
        /// The block text (whitespace collapsed except for code).
        text: MappedText,
    },
    /// A table: its header (if it has one) and rows of cells.
    Table {
        /// Byte range of the whole table in the source.
        range: Range<usize>,
        /// The header row, if the table has one.
        header: Option<RawRow>,
        /// Body rows.
        rows: Vec<RawRow>,
    },
}

/// One table row: its byte range and its cells.
#[derive(Debug, Clone)]
pub struct RawRow {
    /// Byte range of the row in the source.
    pub range: Range<usize>,
    /// Cell texts, whitespace collapsed.
    pub cells: Vec<MappedText>,
}
