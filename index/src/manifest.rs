//! The manifest: what an index generation holds and how it was built.

use crate::checksums::FileSum;
use crate::error::{IndexError, IoContext};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Bumped whenever the on-disk layout changes; older indexes are refused.
pub const SCHEMA_VERSION: u32 = 7;

/// The embedding model of an index's vectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingInfo {
    /// Model id (name and hash of the weights).
    pub model: String,
    /// Vector dimension.
    pub dim: usize,
    /// How block vectors were pooled ([`POOLING`]); vectors pooled another
    /// way are not reused by a rebuild. Empty in indexes from before it.
    #[serde(default)]
    pub pooling: String,
}

/// The pooling of this build: blocks share windows per section (`windows.rs`).
pub const POOLING: &str = "section-windows-256";

/// Counts of what an index holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Source files.
    pub files: usize,
    /// Documents (files, or JSONL records).
    pub documents: usize,
    /// Spans of every kind.
    pub spans: usize,
    /// Spans searched by BM25 and embedded (blocks and rows).
    pub retrievable: usize,
    /// Stored vectors.
    pub vectors: usize,
    /// Stored unit vectors (sentences, clauses, single-unit blocks).
    pub unit_vectors: usize,
    /// Tokens of the retrievable spans.
    pub tokens: u64,
}

/// One HNSW graph: its dump's name and how many consecutive vector files
/// (after the previous graph's) it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphPart {
    /// The graph's name (its file is `<name>.graph`).
    pub name: String,
    /// Vector files it covers.
    pub vector_files: usize,
}

/// Describes one committed generation of an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Layout version.
    pub schema_version: u32,
    /// Content id of this generation: changes whenever any document does.
    pub id: String,
    /// Generation number, increasing with every commit.
    pub generation: u64,
    /// Tokenizer that counted every span's tokens.
    pub tokenizer: String,
    /// The folder (absolute, canonical) file paths are recorded relative
    /// to: fixed when the index is created, so a file has one name however
    /// a later run spells its folder.
    pub root: String,
    /// The embedding model, or `None` for a BM25-only index.
    pub embedding: Option<EmbeddingInfo>,
    /// What it holds.
    pub counts: Counts,
    /// Block-vector files in ord order; the first is the HNSW graph's.
    #[serde(default)]
    pub vector_files: Vec<String>,
    /// The HNSW graphs over the leading entries of `vector_files`, in
    /// order (the files after them were appended since, and are searched
    /// exactly).
    #[serde(default)]
    pub graphs: Vec<GraphPart>,
    /// Ords below this were written by the last fresh write (a first
    /// build or a compaction); the rest were appended since.
    #[serde(default)]
    pub base_ords: u32,
    /// Unit-vector files in ord order.
    #[serde(default)]
    pub unit_files: Vec<String>,
    /// Each of the generation's files (path relative to it): its length
    /// and the blake3 of its sidecar of block checksums (`checksums/`).
    pub checksums: BTreeMap<String, FileSum>,
}

impl Manifest {
    pub(crate) fn read(path: &Path) -> Result<Manifest, IndexError> {
        let bytes = std::fs::read(path).io("reading", path)?;
        let probe: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| corrupt(path, e))?;
        let found = probe
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0) as u32;
        if found != SCHEMA_VERSION {
            return Err(IndexError::SchemaMismatch {
                path: path.parent().unwrap_or(path).to_path_buf(),
                found,
                expected: SCHEMA_VERSION,
            });
        }
        serde_json::from_value(probe).map_err(|e| corrupt(path, e))
    }
}

fn corrupt(path: &Path, e: impl std::fmt::Display) -> IndexError {
    IndexError::Corrupt {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}
