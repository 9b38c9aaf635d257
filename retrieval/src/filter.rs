//! Filters: which spans a search may return.

use crate::RetrievalError;
use bubble_index::bubble_ingest::SpanKind;
use bubble_index::{Allowed, Index};
use globset::{Glob, GlobSetBuilder};

/// Restricts hits to some files and span kinds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SpanFilter {
    /// Globs on the source path (any may match); empty means every path.
    pub paths: Vec<String>,
    /// Kinds allowed; empty means every retrievable kind.
    pub kinds: Vec<SpanKind>,
}

impl SpanFilter {
    /// Whether the filter lets everything through.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.kinds.is_empty()
    }

    /// The set of allowed ords in `index`, or `None` when nothing is filtered.
    pub fn allowed(&self, index: &Index) -> Result<Option<Allowed>, RetrievalError> {
        if self.is_empty() {
            return Ok(None);
        }
        let mut b = GlobSetBuilder::new();
        for p in &self.paths {
            b.add(Glob::new(p).map_err(|e| RetrievalError::Filter(format!("{p:?}: {e}")))?);
        }
        let globs = b
            .build()
            .map_err(|e| RetrievalError::Filter(e.to_string()))?;
        let store = index.store();
        // Globs are matched once per file (a document's source is its
        // file's path), kinds read from the store's kind table.
        let mut span_ok = vec![false; store.ord_limit() as usize];
        let kind_ok = |ord: u32| {
            self.kinds.is_empty() || store.kind(ord).is_some_and(|k| self.kinds.contains(&k))
        };
        for file in store.files() {
            if !self.paths.is_empty() && !globs.is_match(&file.path) {
                continue;
            }
            for doc in file.docs.clone().filter_map(|n| store.doc(n)) {
                for ord in doc.spans {
                    if let Some(ok) = span_ok.get_mut(ord as usize) {
                        *ok = kind_ok(ord);
                    }
                }
            }
        }
        Ok(Some(Allowed::from_fn(span_ok.len(), |o| {
            span_ok[o as usize]
        })))
    }
}
