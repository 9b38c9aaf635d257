use thiserror::Error;

/// Why a bubble could not be built.
#[derive(Debug, Error)]
pub enum AssemblyError {
    /// A pipeline spec that does not validate.
    #[error("pipeline {pipeline:?}: {detail}")]
    Pipeline {
        /// The pipeline's name (or file).
        pipeline: String,
        /// What is wrong, and where.
        detail: String,
    },
    /// Retrieval failed.
    #[error(transparent)]
    Retrieval(#[from] bubble_retrieval::RetrievalError),
    /// The request itself is unusable.
    #[error("bad request: {0}")]
    Request(String),
}
