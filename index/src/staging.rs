//! What a writer has staged and not yet committed: files parsed into
//! documents, and removals. The embedded index's writer and a database's
//! (`bubble-postgres`) stage the same way, so an upsert means the same
//! thing to both: a canonical path, content identical to what is held or
//! staged stages nothing, and a file that does not parse stages nothing.

use crate::error::IndexError;
use bubble_ingest::{parse_file, Document, IngestOptions, TokenCounter};
use std::collections::BTreeMap;

/// A staged change of one file.
#[derive(Debug)]
pub enum Change {
    /// New content: its hash and documents.
    Upsert {
        /// blake3 of the bytes.
        hash: String,
        /// The parsed documents.
        docs: Vec<Document>,
    },
    /// The file is gone.
    Delete,
}

/// Staged changes by path.
#[derive(Debug)]
pub struct Staging {
    counter: TokenCounter,
    ingest: IngestOptions,
    changes: BTreeMap<String, Change>,
    spans: usize,
}

impl Staging {
    /// Nothing staged; files are parsed with `ingest`'s limits and their
    /// tokens counted by `counter`.
    pub fn new(counter: TokenCounter, ingest: IngestOptions) -> Staging {
        Staging {
            counter,
            ingest,
            changes: BTreeMap::new(),
            spans: 0,
        }
    }

    /// The hash `path` has once the staged changes commit: the staged
    /// content's, none for a staged removal, else `held` (what the store
    /// holds now).
    pub fn hash(&self, path: &str, held: impl FnOnce() -> Option<String>) -> Option<String> {
        match self.changes.get(path) {
            Some(Change::Upsert { hash, .. }) => Some(hash.clone()),
            Some(Change::Delete) => None,
            None => held(),
        }
    }

    /// Stages file `path` (relative to the root, `/`-separated) with
    /// content `bytes`, parsed by its extension, unless it is the content
    /// [`Staging::hash`] gives (`held` as there). Returns the problems found
    /// inside the file (it is still staged), or an error when it cannot be
    /// indexed at all (nothing is staged then).
    pub fn upsert(
        &mut self,
        path: &str,
        bytes: &[u8],
        held: impl FnOnce() -> Option<String>,
    ) -> Result<Vec<String>, IndexError> {
        crate::check_path(path)?;
        let hash = blake3::hash(bytes).to_hex().to_string();
        if self.hash(path, held).as_deref() == Some(hash.as_str()) {
            return Ok(Vec::new());
        }
        let ingested = parse_file(path, bytes, &self.counter, &self.ingest)?;
        self.spans += ingested.docs.iter().map(|d| d.spans.len()).sum::<usize>();
        self.changes.insert(
            path.to_string(),
            Change::Upsert {
                hash,
                docs: ingested.docs,
            },
        );
        Ok(ingested.warnings)
    }

    /// Stages the removal of `path` (`held`: whether the store holds it);
    /// false when neither the store nor the staging has it.
    pub fn delete(&mut self, path: &str, held: bool) -> bool {
        let staged = matches!(self.changes.remove(path), Some(Change::Upsert { .. }));
        if held {
            self.changes.insert(path.to_string(), Change::Delete);
        }
        held || staged
    }

    /// Files staged.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// Whether nothing is staged.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Spans of the staged documents.
    pub fn spans(&self) -> usize {
        self.spans
    }

    /// Takes every staged change, in path order.
    pub fn take(&mut self) -> BTreeMap<String, Change> {
        self.spans = 0;
        std::mem::take(&mut self.changes)
    }
}
