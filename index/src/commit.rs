//! Writing a commit's generation, one of two ways:
//!
//! - **append**: the changed files' documents become one new store segment
//!   after the last ord, their spans are added to tantivy and the files
//!   they replace deleted by term, their vectors appended as a matrix of
//!   their own; everything else is hard-linked from the previous
//!   generation (`links.rs`), and only new files are hashed. The cost is
//!   that of the change plus tantivy's amortised merges.
//! - **rewrite** (a first build, or a compaction): every live document
//!   written afresh from ord 0, vectors reused, one HNSW graph built: the
//!   layout a from-scratch build of the same files has.

use crate::builder::UnitCoverage;
use crate::checksums;
use crate::embed::Embedder;
use crate::embed_store::{embed_store, EmbedPlan};
use crate::error::{IndexError, IoContext};
use crate::generation::{self, Staged};
use crate::links::link;
use crate::manifest::{Counts, EmbeddingInfo, Manifest, POOLING, SCHEMA_VERSION};
use crate::reader::{Index, MANIFEST_FILE, TANTIVY_DIR};
use crate::store::{write_table, FileEntry, SpanBatch};
use crate::text_index::{self, search_text, TextDoc};
use crate::units::UnitVectors;
use crate::vectors::{self, VectorMatrix};
use crate::writer::{Change, CommitReport, Compaction};
use crate::{BuildReport, Progress};
use bubble_ingest::Document;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// What a commit writes from.
pub(crate) struct CommitInput<'a> {
    pub(crate) index_dir: &'a Path,
    pub(crate) previous: Option<&'a Index>,
    pub(crate) changes: BTreeMap<String, Change>,
    pub(crate) embedder: Option<&'a Embedder>,
    pub(crate) tokenizer: &'a str,
    pub(crate) root: &'a Path,
    pub(crate) units: UnitCoverage,
    pub(crate) reembed_all: bool,
    pub(crate) repool: bool,
}

impl CommitInput<'_> {
    /// The previous generation's files a change replaces or removes.
    fn replaced(&self) -> Vec<&FileEntry> {
        self.previous
            .iter()
            .flat_map(|p| p.store().files())
            .filter(|f| self.changes.contains_key(&f.path))
            .collect()
    }

    /// `(path, hash, documents)` of every upsert, by path.
    fn take_upserts(&mut self) -> Vec<(String, String, Vec<Document>)> {
        std::mem::take(&mut self.changes)
            .into_iter()
            .filter_map(|(path, change)| match change {
                Change::Upsert { hash, docs } => Some((path, hash, docs)),
                Change::Delete => None,
            })
            .collect()
    }

    fn plan(&self, appending: bool) -> EmbedPlan {
        EmbedPlan {
            reuse: !self.reembed_all,
            only_lone_blocks: self.repool && !appending,
            units: self.units != UnitCoverage::Off,
            continuation: self.units == UnitCoverage::Full,
        }
    }
}

/// Whether appending `input` would pass the compaction thresholds.
pub(crate) fn needs_compaction(input: &CommitInput<'_>, c: &Compaction) -> bool {
    let Some(prev) = input.previous else {
        return true;
    };
    let store = prev.store();
    let added: u64 = input
        .changes
        .values()
        .map(|change| match change {
            Change::Upsert { docs, .. } => docs.iter().map(|d| d.spans.len() as u64).sum(),
            Change::Delete => 0,
        })
        .sum();
    let removed: u64 = input
        .replaced()
        .iter()
        .flat_map(|f| f.docs.clone())
        .filter_map(|n| store.doc_span_range(n))
        .map(|r| r.len() as u64)
        .sum();
    let limit = u64::from(store.ord_limit()) + added;
    let appended = u64::from(store.ord_limit() - store.base_ord_end()) + added;
    let churn = u64::from(store.dead_spans()) + removed + appended;
    store.segment_names().len() + 1 > c.max_segments
        || (churn as f64 > c.fraction * limit as f64 && churn >= u64::from(c.min_spans))
}

/// Vectors a commit embedded or reused for its batch.
type Embedded = (Option<VectorMatrix>, Option<UnitVectors>);

fn embed(
    input: &CommitInput<'_>,
    batch: &SpanBatch,
    appending: bool,
    report: &mut BuildReport,
    progress: &mut dyn FnMut(Progress),
    out: &mut CommitReport,
) -> Result<Embedded, IndexError> {
    let Some(e) = input.embedder else {
        return Ok((None, None));
    };
    let started = Instant::now();
    let before = report.embedded;
    let (m, u) = embed_store(
        batch,
        input.plan(appending),
        input.previous,
        e,
        report,
        progress,
    )?;
    out.embedded = report.embedded - before;
    out.embed_seconds = started.elapsed().as_secs_f64();
    Ok((Some(m), u.filter(|u| !u.is_empty())))
}

/// Writes every live document afresh from ord 0.
pub(crate) fn rewrite(
    mut input: CommitInput<'_>,
    report: &mut BuildReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<CommitReport, IndexError> {
    let mut files: BTreeMap<String, (String, Vec<Document>)> = BTreeMap::new();
    if let Some(p) = input.previous {
        for f in p.store().files() {
            if !input.changes.contains_key(&f.path) {
                let docs = p.store().file_documents(f);
                files.insert(f.path.clone(), (f.content_hash.clone(), docs));
            }
        }
    }
    for (path, hash, docs) in input.take_upserts() {
        files.insert(path, (hash, docs));
    }
    let batch = SpanBatch::from_files(
        files
            .into_iter()
            .map(|(path, (hash, docs))| (path, hash, docs))
            .collect(),
        0,
        0,
    );
    let mut out = CommitReport::default();
    let (matrix, units) = embed(&input, &batch, false, report, progress, &mut out)?;

    progress(Progress::Writing);
    let number = next_number(input.index_dir)?;
    let staged = Staged::begin(input.index_dir, number)?;
    let dir = staged.dir();
    batch.write(dir)?;
    let tantivy_dir = dir.join(TANTIVY_DIR);
    std::fs::create_dir_all(&tantivy_dir).io("creating", &tantivy_dir)?;
    text_index::build(&tantivy_dir, text_docs(&batch).into_iter())?;
    let vector_files = match &matrix {
        Some(m) => vec![vectors::write(dir, m, 0)?],
        None => Vec::new(),
    };
    let unit_files = match &units {
        Some(u) => vec![u.write(dir, 0)?],
        None => Vec::new(),
    };
    let (spans, retrievable, tokens) = batch_counts(&batch);
    let counts = Counts {
        files: batch.files().len(),
        documents: batch.docs().len(),
        spans,
        retrievable,
        vectors: matrix.as_ref().map_or(0, VectorMatrix::len),
        unit_vectors: units.as_ref().map_or(0, UnitVectors::len),
        tokens,
    };
    let manifest = manifest(
        &input,
        batch.files(),
        counts,
        (vector_files, unit_files),
        number,
    );
    let manifest = write_manifest(dir, &manifest, None)?;
    staged.commit()?;
    out.manifest = Some(manifest);
    Ok(out)
}

/// Appends the changed files as a new segment; links everything else.
pub(crate) fn append(
    mut input: CommitInput<'_>,
    report: &mut BuildReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<CommitReport, IndexError> {
    let Some(prev) = input.previous else {
        return rewrite(input, report, progress);
    };
    let store = prev.store();
    let replaced: Vec<FileEntry> = input.replaced().into_iter().cloned().collect();
    let batch = SpanBatch::from_files(input.take_upserts(), store.ord_limit(), store.doc_limit());
    let mut out = CommitReport::default();
    let (matrix, units) = embed(&input, &batch, true, report, progress, &mut out)?;

    progress(Progress::Writing);
    let number = next_number(input.index_dir)?;
    let staged = Staged::begin(input.index_dir, number)?;
    let dir = staged.dir();
    let prev_dir = prev.generation_dir();

    let mut segments = store.segment_names().to_vec();
    for name in &segments {
        link(&prev_dir.join(name), &dir.join(name))?;
    }
    if !batch.docs().is_empty() {
        segments.push(batch.write_segment(dir)?);
    }
    let mut files: Vec<FileEntry> = store
        .files()
        .iter()
        .filter(|f| !replaced.iter().any(|r| r.path == f.path))
        .chain(batch.files())
        .cloned()
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    write_table(dir, files.clone(), segments)?;

    let removed: Vec<&str> = replaced.iter().map(|f| f.path.as_str()).collect();
    text_index::update(
        &dir.join(TANTIVY_DIR),
        &prev_dir.join(TANTIVY_DIR),
        &removed,
        text_docs(&batch).into_iter(),
    )?;

    let mut vector_files = prev.manifest().vector_files.clone();
    let graph = vectors::graph_files();
    let carried = vector_files
        .iter()
        .chain(&graph)
        .chain(&prev.manifest().unit_files);
    for name in carried {
        if prev_dir.join(name).exists() {
            link(&prev_dir.join(name), &dir.join(name))?;
        }
    }
    if let Some(m) = matrix.as_ref().filter(|m| !m.is_empty()) {
        vector_files.push(vectors::write_appended(dir, m, batch.first_ord())?);
    }
    let mut unit_files = prev.manifest().unit_files.clone();
    if let Some(u) = &units {
        unit_files.push(u.write(dir, batch.first_ord())?);
    }

    let counts = appended_counts(prev, &replaced, &batch, (matrix.as_ref(), units.as_ref()));
    let manifest = manifest(&input, &files, counts, (vector_files, unit_files), number);
    let manifest = write_manifest(dir, &manifest, Some((prev_dir, &prev.manifest().checksums)))?;
    staged.commit()?;
    out.manifest = Some(manifest);
    Ok(out)
}

fn next_number(index_dir: &Path) -> Result<u64, IndexError> {
    Ok(generation::current(index_dir)?.map_or(1, |(n, _)| n + 1))
}

/// The BM25 documents of a batch's retrievable spans.
fn text_docs(batch: &SpanBatch) -> Vec<TextDoc<'_>> {
    let mut docs = Vec::new();
    for d in batch.docs() {
        for ord in d.spans.clone() {
            let Some(span) = batch.span(ord) else {
                continue;
            };
            if span.kind.is_retrievable() {
                docs.push(TextDoc {
                    ord,
                    body: search_text(&d.title, span),
                    kind: span.kind,
                    path: &d.source,
                });
            }
        }
    }
    docs
}

/// `(spans, retrievable spans, their tokens)` of a batch.
fn batch_counts(batch: &SpanBatch) -> (usize, usize, u64) {
    let retrievable = batch.spans().iter().filter(|s| s.kind.is_retrievable());
    let (n, tokens) = retrievable.fold((0, 0u64), |(n, t), s| (n + 1, t + u64::from(s.tokens)));
    (batch.spans().len(), n, tokens)
}

/// The previous generation's counts, less the files replaced, plus the batch.
fn appended_counts(
    prev: &Index,
    replaced: &[FileEntry],
    batch: &SpanBatch,
    (matrix, units): (Option<&VectorMatrix>, Option<&UnitVectors>),
) -> Counts {
    let store = prev.store();
    let mut c = prev.manifest().counts.clone();
    for f in replaced {
        c.files -= 1;
        for n in f.docs.clone() {
            c.documents -= 1;
            let Some(range) = store.doc_span_range(n) else {
                continue;
            };
            c.spans -= range.len();
            for ord in range {
                if store.kind(ord).is_some_and(|k| k.is_retrievable()) {
                    c.retrievable -= 1;
                    c.tokens -= store.span(ord).map_or(0, |s| u64::from(s.tokens));
                }
                if prev.vectors().and_then(|v| v.vector(ord)).is_some() {
                    c.vectors -= 1;
                }
                if prev.unit_vectors().and_then(|u| u.get(ord)).is_some() {
                    c.unit_vectors -= 1;
                }
            }
        }
    }
    let (spans, retrievable, tokens) = batch_counts(batch);
    c.files += batch.files().len();
    c.documents += batch.docs().len();
    c.spans += spans;
    c.retrievable += retrievable;
    c.tokens += tokens;
    c.vectors += matrix.map_or(0, VectorMatrix::len);
    c.unit_vectors += units.map_or(0, UnitVectors::len);
    c
}

/// The manifest of a generation holding `files` (checksums come last).
fn manifest(
    input: &CommitInput<'_>,
    files: &[FileEntry],
    counts: Counts,
    (vector_files, unit_files): (Vec<String>, Vec<String>),
    generation: u64,
) -> Manifest {
    let mut h = blake3::Hasher::new();
    for f in files {
        h.update(f.path.as_bytes());
        h.update(f.content_hash.as_bytes());
    }
    h.update(input.tokenizer.as_bytes());
    let embedding = input.embedder.map(|e| EmbeddingInfo {
        model: e.id().to_string(),
        dim: e.dim(),
        pooling: POOLING.to_string(),
    });
    if let Some(e) = &embedding {
        h.update(e.model.as_bytes());
    }
    Manifest {
        schema_version: SCHEMA_VERSION,
        id: h.finalize().to_hex()[..16].to_string(),
        generation,
        tokenizer: input.tokenizer.to_string(),
        root: input.root.to_string_lossy().into_owned(),
        embedding,
        counts,
        vector_files,
        unit_files,
        checksums: Default::default(),
    }
}

/// Writes the manifest last, with every other file's checksum (those of
/// files linked from `previous` carried over): a generation without one
/// is never committed anyway.
fn write_manifest(
    dir: &Path,
    manifest: &Manifest,
    previous: Option<(&Path, &BTreeMap<String, String>)>,
) -> Result<Manifest, IndexError> {
    let manifest = Manifest {
        checksums: checksums::compute(dir, MANIFEST_FILE, previous)?,
        ..manifest.clone()
    };
    let path = dir.join(MANIFEST_FILE);
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| IndexError::Corrupt {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    std::fs::write(&path, json).io("writing", &path)?;
    Ok(manifest)
}
