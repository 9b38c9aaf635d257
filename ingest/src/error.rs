use thiserror::Error;

/// Why a file could not be ingested. Each variant is a reason a user can act on.
#[derive(Debug, Error)]
pub enum IngestError {
    /// The file is empty (or only whitespace).
    #[error("empty file")]
    Empty,
    /// The file looks binary (it has NUL bytes).
    #[error("binary file (NUL bytes found)")]
    Binary,
    /// The file is not valid UTF-8.
    #[error("invalid UTF-8 at byte {0}")]
    InvalidUtf8(usize),
    /// The file is larger than the configured limit.
    #[error("file is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Size of the file.
        size: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The extension is not one Bubble parses.
    #[error("unsupported file type {0:?}")]
    Unsupported(String),
    /// A `.gz` file that does not decompress.
    #[error("bad gzip data: {0}")]
    Gzip(String),
    /// A structured file (CSV, JSONL) that cannot be parsed at all.
    #[error("malformed {format}: {detail}")]
    Malformed {
        /// The format ("CSV", "JSONL").
        format: &'static str,
        /// What is wrong, with a line number where known.
        detail: String,
    },
    /// A tokenizer that cannot be loaded.
    #[error("tokenizer {name:?}: {detail}")]
    Tokenizer {
        /// The tokenizer name or path.
        name: String,
        /// Why it failed.
        detail: String,
    },
}
