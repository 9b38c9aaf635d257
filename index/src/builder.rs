//! Indexing folders: walk them, and hand the writer (`writer.rs`) what
//! changed, in one commit.
//!
//! Incremental by file content: a file whose bytes are unchanged keeps its
//! documents and vectors (nothing is parsed or embedded again); changed and
//! new files are parsed and embedded; files that vanished from under the
//! given roots are removed. Files outside the roots of this run are kept,
//! so several folders can share one index.

use crate::embed::Embedder;
use crate::error::IndexError;
use crate::manifest::Manifest;
use crate::walk::{recorded_name, walk, WalkOptions};
use crate::writer::{CommitReport, Compaction, Writer};
use bubble_ingest::IngestOptions;
use std::collections::HashSet;
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
    /// The folder paths are recorded relative to, for a new index; `None`
    /// takes the working directory. An existing index keeps its own.
    pub root: Option<PathBuf>,
    /// Rewrite the whole index (drop tombstones, one HNSW graph).
    pub compact: bool,
    /// When a commit compacts on its own.
    pub compaction: Compaction,
    /// Spans held in memory before they are written as a chunk (`None`:
    /// the writer's default, about 130 MB of parsed spans).
    pub chunk_spans: Option<usize>,
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
    /// Whether the commit rewrote the whole index (a first build or a
    /// compaction) rather than appending what changed.
    pub compacted: bool,
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

/// Indexes `roots` into `index_dir`, creating or updating it.
pub fn build(
    index_dir: &Path,
    roots: &[PathBuf],
    opts: &BuildOptions,
    embedder: Option<&Embedder>,
    progress: &mut dyn FnMut(Progress),
) -> Result<BuildReport, IndexError> {
    let mut writer = Writer::open(index_dir, opts, embedder)?;
    index_files(&mut writer, roots, opts, progress)
}

/// What indexing folders needs of a store's writer: the embedded index's
/// [`Writer`] and a database's (the `bubble-postgres` crate), so one walk
/// with one set of rules (unchanged files skipped, vanished ones removed,
/// bad ones reported and kept) serves both.
pub trait DocumentWriter {
    /// The folder paths are recorded relative to.
    fn root(&self) -> &Path;
    /// The content hash the store holds (or has staged) for `path`.
    fn file_hash(&self, path: &str) -> Option<String>;
    /// Every file the store holds.
    fn held_files(&self) -> Vec<String>;
    /// Stages `path` with content `bytes`; the problems found inside it.
    fn upsert(&mut self, path: &str, bytes: &[u8]) -> Result<Vec<String>, IndexError>;
    /// Stages the removal of `path`; false when the store lacks it.
    fn delete(&mut self, path: &str) -> bool;
    /// Writes what is staged once it holds a chunk's worth; true when it did.
    fn flush_if_full(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<bool, IndexError>;
    /// Commits what is staged; returns once it is durable.
    fn commit(
        &mut self,
        report: &mut BuildReport,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<CommitReport, IndexError>;
}

impl DocumentWriter for Writer<'_> {
    fn root(&self) -> &Path {
        Writer::root(self)
    }
    fn file_hash(&self, path: &str) -> Option<String> {
        Writer::file_hash(self, path)
    }
    fn held_files(&self) -> Vec<String> {
        self.index()
            .iter()
            .flat_map(|p| p.store().files())
            .map(|f| f.path.clone())
            .collect()
    }
    fn upsert(&mut self, path: &str, bytes: &[u8]) -> Result<Vec<String>, IndexError> {
        Writer::upsert(self, path, bytes)
    }
    fn delete(&mut self, path: &str) -> bool {
        Writer::delete(self, path)
    }
    fn flush_if_full(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<bool, IndexError> {
        Writer::flush_if_full(self, progress)
    }
    fn commit(
        &mut self,
        report: &mut BuildReport,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<CommitReport, IndexError> {
        Writer::commit(self, report, progress)
    }
}

/// Indexes `roots` through `writer`: every file the walk finds that
/// changed is upserted, files that vanished from under the roots are
/// removed, and the lot is committed.
pub fn index_files(
    writer: &mut dyn DocumentWriter,
    roots: &[PathBuf],
    opts: &BuildOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<BuildReport, IndexError> {
    let started = Instant::now();
    let mut report = BuildReport::default();
    let found = walk(roots, &opts.walk, writer.root())?;
    report.files_seen = found.files.len();
    report.skipped = found.skipped;
    report.ignored = found.ignored;

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
        let held = writer.file_hash(&file.name);
        if held.as_deref() == Some(blake3::hash(&bytes).to_hex().as_str()) {
            report.unchanged += 1;
            continue;
        }
        match writer.upsert(&file.name, &bytes) {
            Ok(warnings) => {
                if held.is_some() {
                    report.updated += 1;
                } else {
                    report.added += 1;
                }
                for w in warnings {
                    report.warnings.push((file.name.clone(), w));
                }
            }
            Err(e) => report.skipped.push((file.name.clone(), e.to_string())),
        }
        // Memory holds one chunk of parsed files, not the corpus.
        writer.flush_if_full(progress)?;
    }
    progress(Progress::Parsing { done: total, total });
    report.parse_seconds = started.elapsed().as_secs_f64();

    // Drop what vanished from under the roots; keep what this run did not
    // look at, and what failed to parse this time (an acknowledged document
    // is never lost to a bad edit).
    let seen: HashSet<&str> = found
        .files
        .iter()
        .map(|f| f.name.as_str())
        .chain(report.skipped.iter().map(|(p, _)| p.as_str()))
        .collect();
    // A root that cannot be resolved now (it vanished) removes nothing.
    let root_names: Vec<String> = roots
        .iter()
        .filter_map(|r| r.canonicalize().ok())
        .map(|r| recorded_name(&r, writer.root()))
        .collect();
    let vanished: Vec<String> = writer
        .held_files()
        .into_iter()
        .filter(|p| !seen.contains(p.as_str()) && root_names.iter().any(|r| is_under(p, r)))
        .collect();
    for path in vanished {
        writer.delete(&path);
        report.removed += 1;
    }

    let commit = writer.commit(&mut report, progress)?;
    report.committed = commit.committed;
    report.embedded = commit.embedded;
    report.compacted = commit.compacted;
    report.embed_seconds = commit.embed_seconds;
    report.write_seconds = commit.write_seconds;
    report.manifest = commit.manifest;
    report.total_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Whether recorded path `path` lies under the root recorded as `root`.
fn is_under(path: &str, root: &str) -> bool {
    if root == "." {
        return !path.starts_with("../");
    }
    path == root || path.starts_with(&format!("{root}/"))
}
