//! Building and updating an index: walk, parse what changed, embed what is
//! new, and commit a complete new generation atomically.
//!
//! Incremental by file content: a file whose bytes are unchanged keeps its
//! documents and vectors from the previous generation (nothing is parsed or
//! embedded again); changed and new files are parsed and embedded; files
//! that vanished from under the given roots are removed. Files outside the
//! roots of this run are kept, so several folders can share one index.

use crate::embed::Embedder;
use crate::embed_store::{embed_store, EmbedPlan};
use crate::error::{IndexError, IoContext};
use crate::generation::{self, Staged};
use crate::lock::WriterLock;
use crate::manifest::{Counts, EmbeddingInfo, Manifest, POOLING, SCHEMA_VERSION};
use crate::reader::{Index, MANIFEST_FILE, STORE_FILE, TANTIVY_DIR};
use crate::store::SpanStore;
use crate::text_index::{self, search_text, TextDoc};
use crate::units::UnitVectors;
use crate::vectors::{self, VectorMatrix};
use crate::walk::{walk, WalkOptions};
use bubble_ingest::{parse_file, Document, IngestOptions, TokenCounter};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Which files to take.
    pub walk: WalkOptions,
    /// Per-file limits.
    pub ingest: IngestOptions,
    /// Tokenizer for span token counts; `None` keeps the index's (or the default).
    pub tokenizer: Option<String>,
    /// Embed every span again (after changing the model).
    pub reembed: bool,
    /// Which units get vectors of their own (compression reads them).
    pub unit_vectors: UnitCoverage,
}

/// Which compression units get vectors pooled from their block's pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnitCoverage {
    /// Every unit: units past the model's 256-token window take a
    /// continuation pass (on SciFact, where 41 % of the tokens lie past the
    /// window, this is most of the cost).
    #[default]
    Full,
    /// Units inside the window only; a unit past it stands in with its
    /// block's vector. Costs nothing over embedding the blocks.
    Window,
    /// None (blocks are still embedded).
    Off,
}

/// Progress of a build, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// `done` of `total` files read and parsed.
    Parsing {
        /// Files done.
        done: usize,
        /// Files in all.
        total: usize,
    },
    /// `done` of `total` spans embedded.
    Embedding {
        /// Spans done.
        done: usize,
        /// Spans in all.
        total: usize,
    },
    /// Writing the new generation.
    Writing,
}

/// What a build did.
#[derive(Debug, Clone, Default)]
pub struct BuildReport {
    /// Files found by the walk.
    pub files_seen: usize,
    /// New files indexed.
    pub added: usize,
    /// Changed files re-indexed.
    pub updated: usize,
    /// Files removed because they vanished.
    pub removed: usize,
    /// Files kept as they were.
    pub unchanged: usize,
    /// `(path, reason)` of files not indexed.
    pub skipped: Vec<(String, String)>,
    /// Files of unsupported types, left out.
    pub ignored: Vec<String>,
    /// `(path, problem)` of problems inside files that were indexed.
    pub warnings: Vec<(String, String)>,
    /// Spans embedded in this run.
    pub embedded: usize,
    /// Whether a new generation was committed (false when nothing changed).
    pub committed: bool,
    /// Seconds reading and parsing.
    pub parse_seconds: f64,
    /// Seconds in the embedding model.
    pub embed_seconds: f64,
    /// Seconds writing the indexes.
    pub write_seconds: f64,
    /// Seconds in all.
    pub total_seconds: f64,
    /// The manifest of the index after the run.
    pub manifest: Option<Manifest>,
}

/// A file's documents in the next generation.
struct NextFile {
    hash: String,
    docs: Vec<Document>,
}

/// Indexes `roots` into `index_dir`, creating or updating it.
pub fn build(
    index_dir: &Path,
    roots: &[PathBuf],
    opts: &BuildOptions,
    embedder: Option<&Embedder>,
    progress: &mut dyn FnMut(Progress),
) -> Result<BuildReport, IndexError> {
    let started = Instant::now();
    let _writer = WriterLock::acquire(index_dir)?;
    let mut report = BuildReport::default();
    let previous = match generation::current(index_dir)? {
        Some(_) => Some(Index::open(index_dir)?),
        None => None,
    };
    let tokenizer = resolve_tokenizer(previous.as_ref(), opts.tokenizer.as_deref())?;
    let counter = TokenCounter::by_name(&tokenizer)?;
    let reembed_all = check_embedding(previous.as_ref(), embedder, opts.reembed)?;
    // Vectors pooled before sections shared windows: only blocks that had
    // a window to themselves were pooled as they are now (`embed_store.rs`).
    let repool = embedder.is_some()
        && previous
            .as_ref()
            .and_then(|p| p.manifest().embedding.as_ref())
            .is_some_and(|info| info.pooling != POOLING);

    let found = walk(roots, &opts.walk)?;
    report.files_seen = found.files.len();
    report.skipped = found.skipped;
    report.ignored = found.ignored;
    let old_files: HashMap<&str, usize> = previous
        .as_ref()
        .map(|p| {
            p.store()
                .files()
                .iter()
                .enumerate()
                .map(|(i, f)| (f.path.as_str(), i))
                .collect()
        })
        .unwrap_or_default();

    let mut next: BTreeMap<String, NextFile> = BTreeMap::new();
    let total = found.files.len();
    for (i, file) in found.files.iter().enumerate() {
        progress(Progress::Parsing { done: i, total });
        // Refuse an oversized file before reading it into memory.
        if let Ok(meta) = std::fs::metadata(&file.path) {
            if meta.len() > opts.ingest.max_file_bytes {
                let e = bubble_ingest::IngestError::TooLarge {
                    size: meta.len(),
                    limit: opts.ingest.max_file_bytes,
                };
                report.skipped.push((file.name.clone(), e.to_string()));
                continue;
            }
        }
        let bytes = match std::fs::read(&file.path) {
            Ok(b) => b,
            Err(e) => {
                report.skipped.push((file.name.clone(), e.to_string()));
                continue;
            }
        };
        let hash = blake3::hash(&bytes).to_hex().to_string();
        let old = old_files.get(file.name.as_str()).and_then(|&i| {
            let p = previous.as_ref()?;
            Some(&p.store().files()[i]).map(|f| (p, f))
        });
        if let Some((p, f)) = old.filter(|(_, f)| f.content_hash == hash && !reembed_all) {
            report.unchanged += 1;
            next.insert(
                file.name.clone(),
                NextFile {
                    hash,
                    docs: p.store().file_documents(f),
                },
            );
            continue;
        }
        match parse_file(&file.name, &bytes, &counter, &opts.ingest) {
            Ok(ingested) => {
                if old.is_some() {
                    report.updated += 1;
                } else {
                    report.added += 1;
                }
                for w in ingested.warnings {
                    report.warnings.push((file.name.clone(), w));
                }
                next.insert(
                    file.name.clone(),
                    NextFile {
                        hash,
                        docs: ingested.docs,
                    },
                );
            }
            Err(e) => report.skipped.push((file.name.clone(), e.to_string())),
        }
    }
    progress(Progress::Parsing { done: total, total });
    report.parse_seconds = started.elapsed().as_secs_f64();

    // Keep what this run did not look at, and what failed to parse this time
    // (an acknowledged document is never lost to a bad edit); drop what vanished.
    let skipped: Vec<&str> = report.skipped.iter().map(|(p, _)| p.as_str()).collect();
    if let Some(p) = &previous {
        for f in p.store().files() {
            if next.contains_key(&f.path) {
                continue;
            }
            let under_roots = roots.iter().any(|r| is_under(&f.path, r));
            if under_roots && !skipped.contains(&f.path.as_str()) {
                report.removed += 1;
                continue;
            }
            next.insert(
                f.path.clone(),
                NextFile {
                    hash: f.content_hash.clone(),
                    docs: p.store().file_documents(f),
                },
            );
        }
    }

    let changed = report.added + report.updated + report.removed > 0 || reembed_all || repool;
    if previous.is_some() && !changed {
        generation::sweep_leftovers(index_dir)?;
        report.manifest = previous.as_ref().map(|p| p.manifest().clone());
        report.total_seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }

    let store = SpanStore::from_files(
        next.into_iter()
            .map(|(name, f)| (name, f.hash, f.docs))
            .collect(),
    );
    let embed_started = Instant::now();
    let (matrix, units) = match embedder {
        Some(e) => {
            let (m, u) = embed_store(
                &store,
                EmbedPlan {
                    reuse: !reembed_all,
                    only_lone_blocks: repool,
                    units: opts.unit_vectors != UnitCoverage::Off,
                    continuation: opts.unit_vectors == UnitCoverage::Full,
                },
                previous.as_ref(),
                e,
                &mut report,
                progress,
            )?;
            (Some(m), u)
        }
        None => (None, None),
    };
    report.embed_seconds = embed_started.elapsed().as_secs_f64();

    progress(Progress::Writing);
    let write_started = Instant::now();
    let number = generation::current(index_dir)?.map_or(1, |(n, _)| n + 1);
    let manifest = manifest_for(
        &store,
        &tokenizer,
        embedder,
        (matrix.as_ref(), units.as_ref()),
        number,
    );
    let staged = Staged::begin(index_dir, number)?;
    let manifest = write_generation(
        staged.dir(),
        &store,
        (matrix.as_ref(), units.as_ref()),
        &manifest,
    )?;
    staged.commit()?;
    report.write_seconds = write_started.elapsed().as_secs_f64();
    report.committed = true;
    report.manifest = Some(manifest);
    report.total_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn resolve_tokenizer(
    previous: Option<&Index>,
    requested: Option<&str>,
) -> Result<String, IndexError> {
    match (previous.map(|p| p.manifest().tokenizer.as_str()), requested) {
        (Some(indexed), Some(req)) if indexed != req => Err(IndexError::TokenizerMismatch {
            indexed: indexed.to_string(),
            requested: req.to_string(),
        }),
        (Some(indexed), _) => Ok(indexed.to_string()),
        (None, Some(req)) => Ok(req.to_string()),
        (None, None) => Ok(bubble_ingest::tokens::DEFAULT_TOKENIZER.to_string()),
    }
}

/// Whether every span must be embedded again; errors when the model and the
/// index disagree in a way a re-embed was not asked to fix.
fn check_embedding(
    previous: Option<&Index>,
    embedder: Option<&Embedder>,
    reembed: bool,
) -> Result<bool, IndexError> {
    let Some(prev) = previous else {
        return Ok(false);
    };
    match (&prev.manifest().embedding, embedder) {
        (Some(info), None) => Err(IndexError::NoVectors(format!(
            "the index holds vectors from {}, but no model is loaded: run scripts/setup (or pass --models), \
             or index into a new folder to build a BM25-only index",
            info.model
        ))),
        (Some(info), Some(e)) if info.model != e.id() && !reembed => Err(IndexError::ModelMismatch {
            indexed: info.model.clone(),
            loaded: e.id().to_string(),
        }),
        (Some(info), Some(e)) => Ok(reembed || info.model != e.id()),
        // A BM25-only index gains vectors for every span once a model is there.
        (None, Some(_)) => Ok(true),
        (None, None) => Ok(false),
    }
}

fn is_under(path: &str, root: &Path) -> bool {
    let root = crate::walk::display_name(root);
    let root = root.trim_end_matches('/');
    path == root || path.starts_with(&format!("{root}/")) || root == "."
}

fn manifest_for(
    store: &SpanStore,
    tokenizer: &str,
    embedder: Option<&Embedder>,
    (matrix, units): (Option<&VectorMatrix>, Option<&UnitVectors>),
    generation: u64,
) -> Manifest {
    let mut h = blake3::Hasher::new();
    for f in store.files() {
        h.update(f.path.as_bytes());
        h.update(f.content_hash.as_bytes());
    }
    h.update(tokenizer.as_bytes());
    let embedding = embedder.map(|e| EmbeddingInfo {
        model: e.id().to_string(),
        dim: e.dim(),
        pooling: POOLING.to_string(),
    });
    if let Some(e) = &embedding {
        h.update(e.model.as_bytes());
    }
    let retrievable: Vec<_> = store
        .spans()
        .iter()
        .filter(|s| s.kind.is_retrievable())
        .collect();
    Manifest {
        schema_version: SCHEMA_VERSION,
        id: h.finalize().to_hex()[..16].to_string(),
        generation,
        tokenizer: tokenizer.to_string(),
        embedding,
        counts: Counts {
            files: store.files().len(),
            documents: store.docs().len(),
            spans: store.spans().len(),
            retrievable: retrievable.len(),
            vectors: matrix.map_or(0, VectorMatrix::len),
            unit_vectors: units.map_or(0, UnitVectors::len),
            tokens: retrievable.iter().map(|s| u64::from(s.tokens)).sum(),
        },
        checksums: Default::default(),
    }
}

fn write_generation(
    dir: &Path,
    store: &SpanStore,
    (matrix, units): (Option<&VectorMatrix>, Option<&UnitVectors>),
    manifest: &Manifest,
) -> Result<Manifest, IndexError> {
    let store_path = dir.join(STORE_FILE);
    let bytes = postcard::to_allocvec(store).map_err(|e| IndexError::Corrupt {
        path: store_path.clone(),
        detail: e.to_string(),
    })?;
    std::fs::write(&store_path, bytes).io("writing", &store_path)?;
    let tantivy_dir = dir.join(TANTIVY_DIR);
    std::fs::create_dir_all(&tantivy_dir).io("creating", &tantivy_dir)?;
    let mut docs = Vec::new();
    for d in store.docs() {
        for ord in d.spans.clone() {
            let span = &store.spans()[ord as usize];
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
    text_index::build(&tantivy_dir, docs.into_iter())?;
    if let Some(m) = matrix {
        vectors::write(dir, m)?;
    }
    if let Some(u) = units {
        u.write(dir)?;
    }
    // The manifest goes last, with every other file's checksum: a
    // generation without one is never committed anyway.
    let manifest = Manifest {
        checksums: crate::checksums::compute(dir, MANIFEST_FILE)?,
        ..manifest.clone()
    };
    let manifest_path = dir.join(MANIFEST_FILE);
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| IndexError::Corrupt {
        path: manifest_path.clone(),
        detail: e.to_string(),
    })?;
    std::fs::write(&manifest_path, json).io("writing", &manifest_path)?;
    Ok(manifest)
}
