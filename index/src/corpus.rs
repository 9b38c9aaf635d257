//! The storage seam: what retrieval and assembly read from an index,
//! whichever store holds it — the embedded index ([`crate::Index`]) or a
//! database (the `bubble-postgres` crate). Nothing above this trait knows
//! which one runs.
//!
//! Both stores keep the embedded index's shape: every span has an *ord*,
//! a document's spans are one run of ords in reading order, and a block's
//! sentences follow it; structure (parents, siblings, table headers,
//! compression units) is found by reading spans by ord, so one algorithm
//! serves both.

use crate::error::IndexError;
use crate::filter::Allowed;
use crate::manifest::Manifest;
use crate::store::{DocEntry, SpanSource};
use crate::Embedder;
use bubble_ingest::{Span, SpanKind};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::borrow::Cow;

/// Which spans a search may return: some files, some kinds.
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

    /// The path globs, compiled (an error names the bad one).
    pub fn globs(&self) -> Result<GlobSet, IndexError> {
        let mut b = GlobSetBuilder::new();
        for p in &self.paths {
            b.add(Glob::new(p).map_err(|e| IndexError::Glob {
                glob: p.clone(),
                detail: e.to_string(),
            })?);
        }
        b.build().map_err(|e| IndexError::Glob {
            glob: self.paths.join(", "),
            detail: e.to_string(),
        })
    }
}

/// A request's filter, prepared once for every channel of a search.
#[derive(Debug, Clone, Default)]
pub struct Restriction {
    /// The filter as asked.
    pub filter: SpanFilter,
    /// The ords it allows, where the store answers by bitmap (the
    /// embedded index); a database applies `filter` in its queries.
    pub allowed: Option<Allowed>,
    /// The files its path globs match, where the store lists them to a
    /// query (a database); `None` when paths are not filtered.
    pub files: Option<Vec<String>>,
}

/// An indexed corpus as the query-time stages read it.
///
/// Lookups answer `None` for an ord or id the store does not hold; a
/// store that meets damage or an outage on a lookup answers `None` too
/// and reports it through [`Corpus::damage`], which every request asks
/// before it answers.
pub trait Corpus: SpanSource + Send + Sync {
    /// What the store holds and how it was built.
    fn manifest(&self) -> &Manifest;

    /// The span at `ord`.
    fn span(&self, ord: u32) -> Option<Span> {
        self.span_at(ord).map(Cow::into_owned)
    }

    /// The kind of the span at `ord`.
    fn kind(&self, ord: u32) -> Option<SpanKind> {
        self.span_at(ord).map(|s| s.kind)
    }

    /// The ord of the live span with id `id`.
    fn ord_of(&self, id: &str) -> Option<u32>;

    /// The document the span at `ord` belongs to.
    fn doc_of(&self, ord: u32) -> Option<DocEntry>;

    /// Prepares `filter` for a search's channels.
    fn restrict(&self, filter: &SpanFilter) -> Result<Restriction, IndexError>;

    /// The BM25 top `k` live spans for `query`, as `(ord, score)`, best
    /// first, ties broken by ord.
    fn bm25(
        &self,
        query: &str,
        k: usize,
        restriction: &Restriction,
    ) -> Result<Vec<(u32, f32)>, IndexError>;

    /// Whether block vectors are stored (and so dense search can run).
    fn has_vectors(&self) -> bool;

    /// The approximate top `k` live spans by cosine to `query` (a unit
    /// vector), as `(ord, cosine)`, best first, ties broken by ord; `ef` is
    /// the search breadth.
    fn dense(
        &self,
        query: &[f32],
        k: usize,
        ef: usize,
        restriction: &Restriction,
    ) -> Result<Vec<(u32, f32)>, IndexError>;

    /// The stored vector of block `ord`.
    fn vector(&self, ord: u32) -> Option<Cow<'_, [f32]>>;

    /// Whether compression-unit vectors are stored.
    fn has_unit_vectors(&self) -> bool;

    /// Appends the stored vector of unit `ord`, widened to `f32`, to `out`;
    /// false (and `out` unchanged) when the unit has none.
    fn unit_vector(&self, ord: u32, out: &mut Vec<f32>) -> bool;

    /// The files the store holds, in path order: `(path, content hash)`
    /// from position `offset`, at most `limit`, and how many there are.
    fn files_page(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<(String, String)>), IndexError>;

    /// File `path`'s content hash and documents, if the store holds it.
    fn file(&self, path: &str) -> Result<Option<(String, Vec<DocEntry>)>, IndexError>;

    /// Damage or an outage a lookup met, as an error ([`Corpus`]).
    fn damage(&self) -> Result<(), IndexError>;

    /// A hint that the spans at `ords` (and their documents) are about to
    /// be read: a remote store fetches them in one round trip.
    fn prefetch(&self, _ords: &[u32]) {}

    /// Checks that `embedder` is the model the store's vectors come from.
    fn check_model(&self, embedder: &Embedder) -> Result<(), IndexError> {
        match &self.manifest().embedding {
            None => Err(IndexError::NoVectors(
                "the index was built without an embedding model".into(),
            )),
            Some(e) if e.model != embedder.id() => Err(IndexError::ModelMismatch {
                indexed: e.model.clone(),
                loaded: embedder.id().to_string(),
            }),
            Some(_) => Ok(()),
        }
    }
}
