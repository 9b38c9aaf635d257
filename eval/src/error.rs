//! The one error type of the evaluation crate.
//!
//! Every variant names the file (or zip member) it is about, because an
//! evaluation run reads several inputs and "invalid data" alone does not say
//! which one to look at.

use std::path::PathBuf;

/// Errors raised while loading datasets or writing evaluation outputs.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// Building or opening the index failed.
    #[error(transparent)]
    Index(#[from] bubble_index::IndexError),
    /// A search failed.
    #[error(transparent)]
    Retrieval(#[from] bubble_retrieval::RetrievalError),
    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The zip archive could not be opened or one of its members read.
    #[error("zip error in {path}: {source}")]
    Zip {
        /// The zip archive.
        path: PathBuf,
        /// The underlying error.
        source: zip::result::ZipError,
    },
    /// A required member is absent from the zip archive.
    #[error("{path} has no member named {name} (searched by file-name suffix)")]
    MissingMember {
        /// The zip archive.
        path: PathBuf,
        /// The file name that was looked for.
        name: String,
    },
    /// A CSV file (usually a zip member) is not well-formed CSV or lacks a column.
    #[error("CSV error in {file}: {source}")]
    Csv {
        /// The CSV file, as `archive.zip:member.csv` when inside a zip.
        file: String,
        /// The underlying error.
        source: csv::Error,
    },
    /// Serialising an output record to JSON failed.
    #[error("JSON error writing {path}: {source}")]
    Json {
        /// The output file.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// The data parsed as CSV but a field does not have the expected shape.
    #[error("bad format in {what}: {detail}")]
    Format {
        /// Where: file, row and field.
        what: String,
        /// What is wrong.
        detail: String,
    },
}
