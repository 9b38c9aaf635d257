//! Errors of the ranker.

use std::path::PathBuf;

/// What can go wrong loading, saving or training heads.
#[derive(Debug, thiserror::Error)]
pub enum RankError {
    /// Reading or writing a heads file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A heads file is not one this version wrote, or is damaged.
    #[error("{path}: not a valid heads file: {detail}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// Vectors of the wrong size, or no training examples.
    #[error("{0}")]
    Input(String),
}
