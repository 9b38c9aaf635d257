use thiserror::Error;

/// Why a compression could not run.
#[derive(Debug, Error, PartialEq)]
pub enum CompressError {
    /// A parameter out of its range.
    #[error("{name} {detail}")]
    Param {
        /// The parameter.
        name: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// Vectors of different lengths.
    #[error("vectors of dimension {found}, expected {expected}")]
    Dimension {
        /// The units' dimension.
        expected: usize,
        /// The offending length.
        found: usize,
    },
    /// The GPU could not be used.
    #[error("GPU: {0}")]
    Gpu(String),
}
