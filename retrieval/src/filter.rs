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
        // Match globs once per document, not once per span.
        let mut doc_ok = vec![true; store.docs().len()];
        if !self.paths.is_empty() {
            for (d, ok) in store.docs().iter().zip(doc_ok.iter_mut()) {
                *ok = globs.is_match(&d.source);
            }
        }
        let mut span_ok = vec![false; store.spans().len()];
        for (d, ok) in store.docs().iter().zip(&doc_ok) {
            if !ok {
                continue;
            }
            for ord in d.spans.clone() {
                let kind = store.spans()[ord as usize].kind;
                span_ok[ord as usize] = self.kinds.is_empty() || self.kinds.contains(&kind);
            }
        }
        Ok(Some(Allowed::from_fn(span_ok.len(), |o| {
            span_ok[o as usize]
        })))
    }
}
