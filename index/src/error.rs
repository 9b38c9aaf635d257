use std::path::PathBuf;
use thiserror::Error;

/// What can go wrong opening, building or reading an index.
#[derive(Debug, Error)]
pub enum IndexError {
    /// A file system operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("reading", "writing", ...).
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The folder holds no committed index.
    #[error("no index at {0} (build one with `bubble index <PATH>... --index {0}`)")]
    NotFound(PathBuf),
    /// The index was written by an incompatible version of Bubble.
    #[error("index at {path} has schema version {found}, this build reads version {expected}; re-index into a new folder")]
    SchemaMismatch {
        /// The index folder.
        path: PathBuf,
        /// Schema version in the manifest.
        found: u32,
        /// Schema version this build writes.
        expected: u32,
    },
    /// The index's vectors come from another embedding model than the one loaded.
    #[error("index was embedded with {indexed}, but the loaded model is {loaded}; re-index with --reembed or load the same model")]
    ModelMismatch {
        /// Model id in the manifest.
        indexed: String,
        /// Model id of the loaded model.
        loaded: String,
    },
    /// A tokenizer other than the index's was requested for indexing.
    #[error("index counts tokens with {indexed}, not {requested}; use a new index folder to change tokenizer")]
    TokenizerMismatch {
        /// Tokenizer in the manifest.
        indexed: String,
        /// Tokenizer requested.
        requested: String,
    },
    /// The embedding model could not be loaded or run.
    #[error("embedding model: {0}")]
    Model(String),
    /// Dense search was asked of an index (or a process) without vectors.
    #[error("dense retrieval unavailable: {0}")]
    NoVectors(String),
    /// The BM25 index failed.
    #[error("text index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The vector index failed.
    #[error("vector index: {0}")]
    Hnsw(String),
    /// Another writer holds the index's writer lock.
    #[error("the index at {} is being written by another writer ({holder}); wait for it to finish", path.parent().unwrap_or(path).display())]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, as it wrote itself into the lock file.
        holder: String,
    },
    /// A file of the index is damaged.
    #[error("corrupt index file {path}: {detail}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A bad include/exclude glob.
    #[error("bad glob {glob:?}: {detail}")]
    Glob {
        /// The pattern.
        glob: String,
        /// Why it is bad.
        detail: String,
    },
    /// A document path a writer cannot record.
    #[error("bad document path {0:?}: give a relative path of `/`-separated names (no empty or `.` parts, no `\\`)")]
    BadPath(String),
    /// A database store failed: unreachable, timed out, or a statement
    /// refused (the PostgreSQL backend).
    #[error("store: {0}")]
    Store(String),
    /// Parsing or tokenizer set-up failed.
    #[error(transparent)]
    Ingest(#[from] bubble_ingest::IngestError),
}

/// Attaches a path and an action to an I/O error.
pub(crate) trait IoContext<T> {
    fn io(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T, IndexError>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn io(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T, IndexError> {
        self.map_err(|source| IndexError::Io {
            action,
            path: path.into(),
            source,
        })
    }
}
