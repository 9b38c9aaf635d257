//! Ingestion: from the bytes of one file to a tree of citable spans.
//!
//! This crate owns the document model ([`Document`], [`Span`]), the format
//! parsers (Markdown, HTML, plain text, CSV/TSV, JSONL, and `.gz` of any of
//! them), the span tree (document → section → block → table row, with
//! sentences kept for compression), stable span ids, and token counting in
//! the caller's tokenizer. It is pure: no I/O beyond what the caller hands
//! it, no index, no model. Keeping it free of tantivy and ONNX lets the
//! parsers be tested and fuzzed on their own, and lets every later stage
//! (index, assembly, compression) share one token counter.
//!
//! The key invariant: every span's `byte_range` lies inside its source on
//! char boundaries and covers the source of the span's text, so a citation
//! can always be resolved back to the exact bytes it came from.
#![deny(missing_docs)]

mod error;
mod file;
pub mod mapped;
pub mod parse;
pub mod sentences;
mod span;
pub mod tokens;
mod tree;

pub use error::IngestError;
pub use file::{detect_format, parse_file, Format, IngestOptions, Ingested};
pub use span::{Document, Span, SpanId, SpanKind};
pub use tokens::TokenCounter;
