//! The on-disk index: a span store, a BM25 index (tantivy) and a vector
//! index (HNSW over MiniLM embeddings), committed together as one atomic
//! generation, and updated incrementally.
//!
//! This crate owns everything that is written once and read many times:
//! walking folders, turning files into spans (through `bubble-ingest`),
//! embedding spans, and the storage layout. It answers only primitive
//! queries — BM25 top-k and vector top-k over span *ords* — and knows
//! nothing of fusion, budgets or bubbles, which belong to later stages.
//!
//! Why generations: tantivy, the HNSW graph and the span store are three
//! files that must agree. Writing a complete new generation and switching a
//! one-line `CURRENT` file atomically makes a crash at any point harmless,
//! and makes readers immune to concurrent writers.
#![deny(missing_docs)]

mod builder;
mod checksums;
mod commit;
mod corpus;
mod embed;
mod embed_store;
mod error;
mod filter;
mod generation;
mod graph;
mod hnsw;
mod links;
mod lock;
mod manifest;
mod matrix_file;
mod pooling;
mod prepare;
mod reader;
mod segment;
mod staging;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod text_index;
mod units;
mod vectors;
mod walk;
mod windows;
mod writer;

pub use bubble_ingest;
pub use builder::{
    build, index_files, BuildOptions, BuildReport, DocumentWriter, Progress, UnitCoverage,
};
pub use checksums::FileSum;
pub use corpus::{Corpus, Restriction, SpanFilter};
pub use embed::{find_models_dir, BlockText, Device, Embedded, Embedder, SectionText, UnitText};
pub use embed_store::embedding_text;
pub use error::IndexError;
pub use filter::Allowed;
pub use half;
pub use lock::{WriterLock, LOCK_FILE};
pub use manifest::{Counts, EmbeddingInfo, GraphPart, Manifest, POOLING, SCHEMA_VERSION};
pub use prepare::{prepare, Prepared};
pub use reader::Index;
pub use staging::{Change, Staging};
pub use store::{DocEntry, FileEntry, SpanSource, SpanStore};
pub use text_index::{bm25_terms, search_text, TextIndex};
pub use units::UnitVectors;
pub use vectors::{dot, VectorIndex, VectorMatrix};
pub use walk::{recorded_name, walk, FoundFile, WalkOptions, WalkResult};
pub use writer::{check_path, CommitReport, Compaction, Writer};
