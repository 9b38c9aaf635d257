//! Writing a generation chunk by chunk, so memory holds one chunk of
//! documents, not the corpus. An [`OpenGeneration`] is a staged generation
//! folder that chunks are flushed into and that becomes current, all at
//! once, on [`OpenGeneration::finish`]. It is opened one of two ways:
//!
//! - **appending** to the previous generation: its files are hard-linked
//!   (`links.rs`), each chunk becomes a new store segment after the last
//!   ord, its spans are added to tantivy and the files it replaces deleted
//!   by term, its vectors appended as a matrix of their own (searched
//!   exactly beside the HNSW graph); only new files are hashed. The cost is
//!   that of the change plus tantivy's amortised merges.
//! - **fresh** (a first build, or a compaction): ords from 0 in path order,
//!   and one HNSW graph over every vector at the end: the layout a
//!   from-scratch build of the same files has.

use crate::builder::UnitCoverage;
use crate::checksums::{self, FileSum};
use crate::corpus::Corpus;
use crate::embed::Embedder;
use crate::embed_store::{embed_store, EmbedPlan};
use crate::error::{IndexError, IoContext};
use crate::generation::{self, Staged};
use crate::graph;
use crate::links::{link, link_files};
use crate::manifest::{Counts, EmbeddingInfo, GraphPart, Manifest, POOLING, SCHEMA_VERSION};
use crate::reader::{Index, MANIFEST_FILE, TANTIVY_DIR};
use crate::store::{write_table, FileEntry, SpanBatch};
use crate::text_index::{search_text, TextDoc, TextWriter};
use crate::vectors;
use crate::writer::Compaction;
use crate::{BuildReport, Progress};
use bubble_ingest::Document;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

/// Spans a writer holds in memory before it flushes them as a chunk: about
/// 130 MB of parsed spans, and a segment of a size tantivy merges well.
pub(crate) const CHUNK_SPANS: usize = 131_072;

/// One file's share of the counts, to take back out when it is replaced.
#[derive(Debug, Clone, Copy, Default)]
struct FileCounts {
    documents: usize,
    spans: usize,
    retrievable: usize,
    tokens: u64,
    vectors: usize,
    unit_vectors: usize,
}

impl FileCounts {
    /// Adds this file to `total` (`sign` 1), or takes it out (`sign` -1).
    fn apply(&self, total: &mut Counts, sign: i8) {
        let step = |t: &mut usize, by: usize| {
            *t = if sign > 0 {
                *t + by
            } else {
                t.saturating_sub(by)
            }
        };
        step(&mut total.files, 1);
        step(&mut total.documents, self.documents);
        step(&mut total.spans, self.spans);
        step(&mut total.retrievable, self.retrievable);
        step(&mut total.vectors, self.vectors);
        step(&mut total.unit_vectors, self.unit_vectors);
        total.tokens = if sign > 0 {
            total.tokens + self.tokens
        } else {
            total.tokens.saturating_sub(self.tokens)
        };
    }
}

/// What every chunk of one commit shares.
pub(crate) struct Settings<'a> {
    pub(crate) embedder: Option<&'a Embedder>,
    pub(crate) tokenizer: &'a str,
    pub(crate) root: &'a Path,
    pub(crate) plan: EmbedPlan,
}

impl Settings<'_> {
    /// The embedding plan for a writer's units setting.
    pub(crate) fn plan_for(units: UnitCoverage, reuse: bool, only_lone_blocks: bool) -> EmbedPlan {
        EmbedPlan {
            reuse,
            only_lone_blocks,
            units: units != UnitCoverage::Off,
            continuation: units == UnitCoverage::Full,
        }
    }
}

/// A staged generation being written.
pub(crate) struct OpenGeneration {
    staged: Staged,
    number: u64,
    /// Appending: the previous generation's folder and checksums.
    base: Option<(std::path::PathBuf, BTreeMap<String, FileSum>)>,
    next_ord: u32,
    next_doc: u32,
    segments: Vec<String>,
    files: BTreeMap<String, FileEntry>,
    /// Counts of files written by this generation (others are counted
    /// from the previous generation's store when they are replaced).
    written: HashMap<String, FileCounts>,
    counts: Counts,
    text: TextWriter,
    vector_files: Vec<String>,
    unit_files: Vec<String>,
    /// The HNSW graphs over the leading vector files.
    graphs: Vec<GraphPart>,
    /// Ords at or past this were appended since the last fresh write.
    base_ords: u32,
    /// Spans embedded, and seconds in the model.
    pub(crate) embedded: usize,
    pub(crate) embed_seconds: f64,
}

impl OpenGeneration {
    /// Opens the next generation of `index_dir`: appending to `previous`,
    /// or fresh when it is `None`.
    pub(crate) fn open(
        index_dir: &Path,
        previous: Option<&Index>,
    ) -> Result<OpenGeneration, IndexError> {
        let number = generation::current(index_dir)?.map_or(1, |(n, _)| n + 1);
        let staged = Staged::begin(index_dir, number)?;
        let dir = staged.dir().to_path_buf();
        let tantivy_dir = dir.join(TANTIVY_DIR);
        let Some(prev) = previous else {
            std::fs::create_dir_all(&tantivy_dir).io("creating", &tantivy_dir)?;
            return Ok(OpenGeneration {
                text: TextWriter::create(&tantivy_dir)?,
                staged,
                number,
                base: None,
                next_ord: 0,
                next_doc: 0,
                segments: Vec::new(),
                files: BTreeMap::new(),
                written: HashMap::new(),
                counts: Counts::default(),
                vector_files: Vec::new(),
                unit_files: Vec::new(),
                graphs: Vec::new(),
                base_ords: 0,
                embedded: 0,
                embed_seconds: 0.0,
            });
        };
        let prev_dir = prev.generation_dir();
        let m = prev.manifest();
        let carried = prev
            .store()
            .segment_names()
            .iter()
            .chain(&m.vector_files)
            .chain(&m.unit_files)
            .cloned()
            .chain(m.graphs.iter().map(|g| graph::file_of(&g.name)));
        for name in carried {
            if prev_dir.join(&name).exists() {
                link(&prev_dir.join(&name), &dir.join(&name))?;
            }
        }
        link_files(&prev_dir.join(TANTIVY_DIR), &tantivy_dir, |n| {
            !n.ends_with(".lock")
        })?;
        Ok(OpenGeneration {
            text: TextWriter::open(
                &tantivy_dir,
                prev.files()
                    .text_directory(&tantivy_dir, TANTIVY_DIR, true)?,
            )?,
            staged,
            number,
            base: Some((prev_dir.to_path_buf(), m.checksums.clone())),
            next_ord: prev.store().ord_limit(),
            next_doc: prev.store().doc_limit(),
            segments: prev.store().segment_names().to_vec(),
            files: prev
                .store()
                .files()
                .iter()
                .map(|f| (f.path.clone(), f.clone()))
                .collect(),
            written: HashMap::new(),
            counts: m.counts.clone(),
            vector_files: m.vector_files.clone(),
            unit_files: m.unit_files.clone(),
            graphs: m.graphs.clone(),
            base_ords: m.base_ords,
            embedded: 0,
            embed_seconds: 0.0,
        })
    }

    /// The content hash this generation holds for `path`, if any.
    pub(crate) fn file_hash(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(|f| f.content_hash.as_str())
    }

    /// Removes `path`'s documents (they stay as tombstones); false when
    /// the generation does not hold it. `previous` counts what it held.
    pub(crate) fn remove(&mut self, path: &str, previous: Option<&Index>) -> bool {
        let Some(entry) = self.files.remove(path) else {
            return false;
        };
        self.text.delete_path(path);
        let c = match self.written.remove(path) {
            Some(c) => c,
            None => previous.map_or_else(FileCounts::default, |p| stored_counts(p, &entry)),
        };
        c.apply(&mut self.counts, -1);
        true
    }

    /// Writes `files` (path order within the chunk), replacing any
    /// version this generation holds, as one segment.
    pub(crate) fn flush(
        &mut self,
        files: Vec<(String, String, Vec<Document>)>,
        settings: &Settings<'_>,
        previous: Option<&Index>,
        report: &mut BuildReport,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), IndexError> {
        for (path, _, _) in &files {
            self.remove(path, previous);
        }
        let batch = SpanBatch::from_files(files, self.next_ord, self.next_doc);
        if batch.docs().is_empty() {
            // Files without documents (a JSONL file of bad lines) are still held.
            for f in batch.files() {
                self.files.insert(f.path.clone(), f.clone());
                self.counts.files += 1;
            }
            return Ok(());
        }
        let (matrix, units) = match settings.embedder {
            Some(e) => {
                let started = Instant::now();
                let before = report.embedded;
                let (m, u) = embed_store(
                    &batch,
                    settings.plan,
                    previous.map(|p| p as &dyn Corpus),
                    e,
                    report,
                    progress,
                )?;
                self.embedded += report.embedded - before;
                self.embed_seconds += started.elapsed().as_secs_f64();
                (Some(m), u.filter(|u| !u.is_empty()))
            }
            None => (None, None),
        };
        progress(Progress::Writing);
        let dir = self.staged.dir().to_path_buf();
        self.segments.push(batch.write_segment(&dir)?);
        self.text.add(text_docs(&batch))?;
        if let Some(m) = matrix.as_ref().filter(|m| !m.is_empty()) {
            self.vector_files
                .push(vectors::write_appended(&dir, m, batch.first_ord())?);
        }
        if let Some(u) = &units {
            self.unit_files.push(u.write(&dir, batch.first_ord())?);
        }
        // Each file's share, for when a later chunk replaces it.
        let with_vector: HashSet<u32> = matrix
            .iter()
            .flat_map(|m| m.rows().map(|(o, _)| o))
            .collect();
        for f in batch.files() {
            let mut c = FileCounts::default();
            for d in &batch.docs()
                [(f.docs.start - self.next_doc) as usize..(f.docs.end - self.next_doc) as usize]
            {
                c.documents += 1;
                for ord in d.spans.clone() {
                    c.spans += 1;
                    let Some(span) = batch.span(ord) else {
                        continue;
                    };
                    if span.kind.is_retrievable() {
                        c.retrievable += 1;
                        c.tokens += u64::from(span.tokens);
                    }
                    if with_vector.contains(&ord) {
                        c.vectors += 1;
                    }
                    if units.as_ref().is_some_and(|u| u.get(ord).is_some()) {
                        c.unit_vectors += 1;
                    }
                }
            }
            c.apply(&mut self.counts, 1);
            self.written.insert(f.path.clone(), c);
            self.files.insert(f.path.clone(), f.clone());
        }
        self.next_ord = batch.first_ord() + batch.spans().len() as u32;
        self.next_doc += batch.docs().len() as u32;
        Ok(())
    }

    /// Commits the generation: tantivy, the file table, the graph of a
    /// fresh generation, the manifest; synced, then made current.
    pub(crate) fn finish(mut self, settings: &Settings<'_>) -> Result<Manifest, IndexError> {
        let dir = self.staged.dir().to_path_buf();
        self.text.commit()?;
        let files: Vec<FileEntry> = self.files.into_values().collect();
        write_table(&dir, files.clone(), self.segments)?;
        if self.base.is_none() {
            self.base_ords = self.next_ord;
            if settings.embedder.is_some() {
                // Graphs over every vector, in ord order (deterministic).
                self.graphs = graph::write_all(&dir, &self.vector_files, graph::GRAPH_POINTS)?;
            }
        }
        let manifest = Manifest {
            schema_version: SCHEMA_VERSION,
            id: content_id(&files, settings),
            generation: self.number,
            tokenizer: settings.tokenizer.to_string(),
            root: settings.root.to_string_lossy().into_owned(),
            embedding: settings.embedder.map(|e| EmbeddingInfo {
                model: e.id().to_string(),
                dim: e.dim(),
                pooling: POOLING.to_string(),
            }),
            counts: self.counts,
            vector_files: self.vector_files,
            graphs: self.graphs,
            unit_files: self.unit_files,
            base_ords: self.base_ords,
            checksums: Default::default(),
        };
        let base = self.base.as_ref().map(|(d, sums)| (d.as_path(), sums));
        let manifest = write_manifest(&dir, &manifest, base)?;
        self.staged.commit()?;
        Ok(manifest)
    }
}

/// Whether a committed index has passed the compaction thresholds.
pub(crate) fn needs_compaction(index: &Index, c: &Compaction) -> bool {
    let store = index.store();
    let base = index.manifest().base_ords;
    let appended_segments = store
        .segment_starts()
        .filter(|&start| start >= base)
        .count();
    let churn = u64::from(store.dead_spans()) + u64::from(store.ord_limit().saturating_sub(base));
    appended_segments > c.max_segments
        || (churn as f64 > c.fraction * f64::from(store.ord_limit().max(1))
            && churn >= u64::from(c.min_spans))
}

/// A previous generation's file's share of the counts, from its store.
fn stored_counts(prev: &Index, f: &FileEntry) -> FileCounts {
    let store = prev.store();
    let mut c = FileCounts::default();
    for n in f.docs.clone() {
        c.documents += 1;
        let Some(range) = store.doc_span_range(n) else {
            continue;
        };
        c.spans += range.len();
        for ord in range {
            if store.kind(ord).is_some_and(|k| k.is_retrievable()) {
                c.retrievable += 1;
                c.tokens += store.span(ord).map_or(0, |s| u64::from(s.tokens));
            }
            if prev.vectors().and_then(|v| v.vector(ord)).is_some() {
                c.vectors += 1;
            }
            if prev.unit_vectors().and_then(|u| u.get(ord)).is_some() {
                c.unit_vectors += 1;
            }
        }
    }
    c
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

/// Changes whenever any file, the tokenizer or the model does.
fn content_id(files: &[FileEntry], settings: &Settings<'_>) -> String {
    let mut h = blake3::Hasher::new();
    for f in files {
        h.update(f.path.as_bytes());
        h.update(f.content_hash.as_bytes());
    }
    h.update(settings.tokenizer.as_bytes());
    if let Some(e) = settings.embedder {
        h.update(e.id().as_bytes());
    }
    h.finalize().to_hex()[..16].to_string()
}

/// Writes the manifest last, with every other file's checksum (those of
/// files linked from `previous` carried over): a generation without one
/// is never committed anyway.
fn write_manifest(
    dir: &Path,
    manifest: &Manifest,
    previous: Option<(&Path, &BTreeMap<String, FileSum>)>,
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
