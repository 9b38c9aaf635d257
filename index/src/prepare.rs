//! Parsed files made ready for a store other than the embedded one (the
//! PostgreSQL backend): numbered and embedded exactly as a commit of the
//! embedded index would do it — blocks read in section windows, a vector
//! for every compression unit, and the vectors of unchanged sections
//! reused from what the store already holds — so both stores hold the
//! same spans and vectors for the same files.

use crate::commit::Settings;
use crate::corpus::Corpus;
use crate::embed::Embedder;
use crate::embed_store::embed_store;
use crate::error::IndexError;
use crate::store::{DocEntry, FileEntry, SpanBatch};
use crate::units::UnitVectors;
use crate::vectors::VectorMatrix;
use crate::{BuildReport, Progress, UnitCoverage};
use bubble_ingest::{Document, Span};

/// Files, their documents and spans, numbered from `first_ord` and
/// `first_doc`, with their vectors.
#[derive(Debug)]
pub struct Prepared {
    /// Each file, with the numbers of its documents.
    pub files: Vec<FileEntry>,
    /// Each document, with the ords of its spans.
    pub docs: Vec<DocEntry>,
    /// Span `i` has ord `first_ord + i`.
    pub spans: Vec<Span>,
    /// The first span's ord.
    pub first_ord: u32,
    /// Block vectors by ord (retrievable spans), when a model ran.
    pub vectors: Option<VectorMatrix>,
    /// Unit vectors by ord, when a model ran and units are pooled.
    pub units: Option<UnitVectors>,
}

/// Numbers and embeds `files` (path, content hash, parsed documents);
/// `previous` is what the store holds now, whose unchanged sections keep
/// their vectors.
pub fn prepare(
    files: Vec<(String, String, Vec<Document>)>,
    (first_ord, first_doc): (u32, u32),
    embedder: Option<&Embedder>,
    units: UnitCoverage,
    previous: Option<&dyn Corpus>,
    report: &mut BuildReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<Prepared, IndexError> {
    let batch = SpanBatch::from_files(files, first_ord, first_doc);
    let (vectors, units) = match embedder {
        Some(e) if !batch.docs().is_empty() => {
            let plan = Settings::plan_for(units, true, false);
            let (m, u) = embed_store(&batch, plan, previous, e, report, progress)?;
            (Some(m), u.filter(|u| !u.is_empty()))
        }
        _ => (None, None),
    };
    Ok(Prepared {
        files: batch.files().to_vec(),
        docs: batch.docs().to_vec(),
        spans: batch.spans().to_vec(),
        first_ord,
        vectors,
        units,
    })
}
