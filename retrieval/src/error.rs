use thiserror::Error;

/// Why a search failed.
#[derive(Debug, Error)]
pub enum RetrievalError {
    /// The index failed.
    #[error(transparent)]
    Index(#[from] bubble_index::IndexError),
    /// A bad filter.
    #[error("bad filter: {0}")]
    Filter(String),
    /// A request outside the bounds a search takes (`limits.rs`).
    #[error("{0}")]
    BadRequest(String),
    /// A mode that cannot run on this index or without a model.
    #[error("{0}")]
    Unavailable(String),
}
