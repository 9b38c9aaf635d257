//! The writer API: the one way anything changes an index. The CLI's
//! `bubble index` walks folders and feeds it; a server feeds it documents
//! as they arrive. Changes are staged in memory by [`Writer::upsert`] and
//! [`Writer::delete`] and become visible, all together, on
//! [`Writer::commit`], which returns only once the new generation is
//! durable (every file it wrote synced, then `CURRENT` renamed and synced):
//! an acknowledged commit survives `kill -9`, and many upserts share one
//! commit's syncs (group commit).
//!
//! A commit appends (`commit.rs`): it costs what changed. It compacts —
//! rewrites the whole index from ord 0, as a fresh build would — when asked,
//! when the model or pooling changed, or when tombstones and appended
//! segments pass the thresholds of [`Compaction`].

use crate::builder::{BuildOptions, UnitCoverage};
use crate::commit::{needs_compaction, OpenGeneration, Settings, CHUNK_SPANS};
use crate::embed::Embedder;
use crate::embed_store::EmbedPlan;
use crate::error::IndexError;
use crate::generation;
use crate::lock::WriterLock;
use crate::manifest::{Manifest, POOLING};
use crate::reader::Index;
use crate::staging::{Change, Staging};
use crate::{BuildReport, Progress};
use bubble_ingest::TokenCounter;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// When a commit rewrites the whole index instead of appending.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Compaction {
    /// Rewrite when more store segments than this would be open.
    pub max_segments: usize,
    /// Rewrite when tombstoned plus appended spans would pass this
    /// fraction of all ords (appended vectors are scanned, not graphed,
    /// so this bounds the scan too)...
    pub fraction: f64,
    /// ...and this many spans (below it, appending stays cheaper than a
    /// rewrite would be useful).
    pub min_spans: u32,
    /// Whether a commit past the thresholds compacts at once (the CLI).
    /// A server turns this off, keeps its commits cheap, and runs
    /// [`Writer::compact`] when [`Writer::needs_compaction`] says so, off
    /// the request path.
    pub automatic: bool,
}

impl Default for Compaction {
    fn default() -> Compaction {
        Compaction {
            max_segments: 32,
            fraction: 0.25,
            min_spans: 10_000,
            automatic: true,
        }
    }
}

/// A staged change to one file.
/// The index's single writer (it holds the writer lock while it lives).
pub struct Writer<'e> {
    dir: PathBuf,
    _lock: WriterLock,
    /// Shared with the readers a server hands out ([`Writer::reader`]).
    previous: Option<Arc<Index>>,
    embedder: Option<&'e Embedder>,
    tokenizer: String,
    root: PathBuf,
    units: UnitCoverage,
    compaction: Compaction,
    /// Every span must be embedded again (new model, or asked to).
    reembed_all: bool,
    /// Vectors pooled another way must be pooled again.
    repool: bool,
    /// Rewrite the whole index on the next commit.
    compact: bool,
    /// Changes not yet written anywhere.
    pending: Staging,
    chunk_spans: usize,
    /// The generation chunks were flushed into, not yet committed.
    open: Option<OpenGeneration>,
    /// Removing the generations before the last commit ([`Writer::committed`]).
    sweeper: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        // A dropped writer leaves one generation, as a commit once did.
        self.wait_sweep();
    }
}

impl std::fmt::Debug for Writer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("dir", &self.dir)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

/// What a commit did.
#[derive(Debug, Clone, Default)]
pub struct CommitReport {
    /// Whether a new generation was committed (false when nothing changed).
    pub committed: bool,
    /// Whether it rewrote the whole index (a compaction or a first build).
    pub compacted: bool,
    /// Spans embedded.
    pub embedded: usize,
    /// Seconds in the embedding model.
    pub embed_seconds: f64,
    /// Seconds writing and syncing.
    pub write_seconds: f64,
    /// The manifest after the commit.
    pub manifest: Option<Manifest>,
}

impl<'e> Writer<'e> {
    /// Opens (or creates) the index in `index_dir` for writing; fails with
    /// [`IndexError::Locked`] while another writer holds it.
    pub fn open(
        index_dir: &Path,
        opts: &BuildOptions,
        embedder: Option<&'e Embedder>,
    ) -> Result<Writer<'e>, IndexError> {
        let lock = WriterLock::acquire(index_dir)?;
        let previous = match generation::current(index_dir)? {
            Some(_) => Some(Arc::new(Index::open(index_dir)?)),
            None => None,
        };
        let tokenizer = resolve_tokenizer(previous.as_deref(), opts.tokenizer.as_deref())?;
        let counter = TokenCounter::by_name(&tokenizer)?;
        let reembed_all = check_embedding(previous.as_deref(), embedder, opts.reembed)?;
        // Vectors pooled before sections shared windows: only blocks that had
        // a window to themselves were pooled as they are now (`embed_store.rs`).
        let repool = embedder.is_some()
            && previous
                .as_ref()
                .and_then(|p| p.manifest().embedding.as_ref())
                .is_some_and(|info| info.pooling != POOLING);
        let root = resolve_root(previous.as_deref(), opts.root.as_deref())?;
        Ok(Writer {
            dir: index_dir.to_path_buf(),
            _lock: lock,
            previous,
            embedder,
            tokenizer,
            root,
            units: opts.unit_vectors,
            compaction: opts.compaction,
            reembed_all,
            repool,
            compact: opts.compact,
            pending: Staging::new(counter, opts.ingest.clone()),
            chunk_spans: opts.chunk_spans.unwrap_or(CHUNK_SPANS).max(1),
            open: None,
            sweeper: None,
        })
    }

    /// The folder file paths are recorded relative to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The committed index this writer started from (or last committed).
    pub fn index(&self) -> Option<&Index> {
        self.previous.as_deref()
    }

    /// The last committed generation, for a server to swap in after a
    /// commit: the writer's own open of it, shared (it wrote or verified
    /// every file, and reopening would repeat that work per commit).
    /// `None` before the first commit of a new index.
    pub fn reader(&self) -> Option<Arc<Index>> {
        self.previous.clone()
    }

    /// The content hash the index will hold for `path` after the next
    /// commit (a staged change first), if any.
    pub fn file_hash(&self, path: &str) -> Option<String> {
        self.pending.hash(path, || self.written_hash(path))
    }

    /// The hash of `path` in the open generation, else the committed one.
    fn written_hash(&self, path: &str) -> Option<String> {
        if let Some(open) = &self.open {
            return open.file_hash(path).map(str::to_string);
        }
        let files = self.previous.as_deref()?.store().files();
        let i = files.binary_search_by(|f| f.path.as_str().cmp(path)).ok()?;
        Some(files[i].content_hash.clone())
    }

    /// Stages the file `path` (as recorded: relative to the root, `/`
    /// separated) with content `bytes`, parsed by its extension. Returns
    /// the problems found inside the file (it is still indexed), or an
    /// error when it cannot be indexed at all (nothing is staged then).
    /// Content identical to what the index holds stages nothing.
    pub fn upsert(&mut self, path: &str, bytes: &[u8]) -> Result<Vec<String>, IndexError> {
        let written = self.written_hash(path);
        self.pending.upsert(path, bytes, || written)
    }

    /// Stages the removal of `path`; false when the index does not hold it.
    pub fn delete(&mut self, path: &str) -> bool {
        let held = self.written_hash(path).is_some();
        self.pending.delete(path, held)
    }

    /// Changes staged in memory.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Writes the staged changes into the generation being built (not yet
    /// visible) once they hold a chunk's spans, so a large batch of
    /// upserts holds one chunk in memory; true when it wrote. A rewrite
    /// (a compaction, a re-embedding) keeps them for the commit instead.
    pub fn flush_if_full(
        &mut self,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<bool, IndexError> {
        if self.pending.spans() < self.chunk_spans || self.rewrites() {
            return Ok(false);
        }
        self.flush(&mut BuildReport::default(), progress)?;
        Ok(true)
    }

    fn rewrites(&self) -> bool {
        self.reembed_all || self.repool || self.compact
    }

    fn settings(&self, plan: EmbedPlan) -> Settings<'_> {
        Settings {
            embedder: self.embedder,
            tokenizer: &self.tokenizer,
            root: &self.root,
            plan,
        }
    }

    fn flush(
        &mut self,
        report: &mut BuildReport,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), IndexError> {
        let mut open = match self.open.take() {
            Some(open) => open,
            None => OpenGeneration::open(&self.dir, self.previous.as_deref())?,
        };
        let mut upserts = Vec::new();
        for (path, change) in self.pending.take() {
            match change {
                Change::Upsert { hash, docs } => upserts.push((path, hash, docs)),
                Change::Delete => {
                    open.remove(&path, self.previous.as_deref());
                }
            }
        }
        let plan = Settings::plan_for(self.units, true, false);
        let written = open.flush(
            upserts,
            &self.settings(plan),
            self.previous.as_deref(),
            report,
            progress,
        );
        // Kept even after an error: its folder is swept by the next commit.
        self.open = Some(open);
        written
    }

    /// Commits every staged change as one new generation, durable when
    /// this returns. Nothing staged (and nothing to rewrite) commits nothing.
    /// An append that passes the [`Compaction`] thresholds is followed by
    /// a compaction, a second commit of the same content.
    pub fn commit(
        &mut self,
        report: &mut BuildReport,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<CommitReport, IndexError> {
        let nothing = self.pending.is_empty() && self.open.is_none();
        if self.previous.is_some() && nothing && !self.rewrites() {
            self.wait_sweep();
            generation::sweep_leftovers(&self.dir)?;
            return Ok(CommitReport {
                manifest: self.previous.as_deref().map(|p| p.manifest().clone()),
                ..CommitReport::default()
            });
        }
        let started = Instant::now();
        let mut out = CommitReport {
            committed: true,
            ..CommitReport::default()
        };
        let manifest = if self.rewrites() {
            out.compacted = true;
            self.rewrite(&mut out, report, progress)?
        } else {
            self.flush(report, progress)?;
            let open = match self.open.take() {
                Some(open) => open,
                None => OpenGeneration::open(&self.dir, self.previous.as_deref())?,
            };
            out.compacted = self.previous.is_none();
            out.embedded += open.embedded;
            out.embed_seconds += open.embed_seconds;
            let plan = Settings::plan_for(self.units, true, false);
            let manifest = open.finish(&self.settings(plan))?;
            self.committed(manifest.generation)?;
            if self.compaction.automatic && self.needs_compaction() {
                out.compacted = true;
                self.rewrite(&mut out, report, progress)?
            } else {
                manifest
            }
        };
        self.reembed_all = false;
        self.repool = false;
        self.compact = false;
        out.write_seconds = started.elapsed().as_secs_f64() - out.embed_seconds;
        out.manifest = Some(manifest);
        Ok(out)
    }

    /// Whether the committed index has passed the compaction thresholds.
    pub fn needs_compaction(&self) -> bool {
        self.previous
            .as_deref()
            .is_some_and(|p| needs_compaction(p, &self.compaction))
    }

    /// Compacts: commits the staged changes and every committed file
    /// written afresh from ord 0 (no tombstones, one HNSW graph), reusing
    /// every vector. What `bubble index --compact` does.
    pub fn compact(
        &mut self,
        report: &mut BuildReport,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<CommitReport, IndexError> {
        if let Some(open) = self.open.take() {
            // Chunks already written go in first, as their own commit.
            let plan = Settings::plan_for(self.units, true, false);
            let manifest = open.finish(&self.settings(plan))?;
            self.committed(manifest.generation)?;
        }
        self.compact = true;
        self.commit(report, progress)
    }

    /// Writes every live file afresh from ord 0, in path order, chunk by
    /// chunk: the committed files not staged (decoded one at a time) and
    /// the staged upserts.
    fn rewrite(
        &mut self,
        out: &mut CommitReport,
        report: &mut BuildReport,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Manifest, IndexError> {
        let mut open = OpenGeneration::open(&self.dir, None)?;
        let mut staged = self.pending.take();
        let prev = self.previous.as_deref();
        let committed = prev.iter().flat_map(|p| p.store().files());
        let mut paths: Vec<&str> = committed
            .clone()
            .map(|f| f.path.as_str())
            .filter(|p| !staged.contains_key(*p))
            .collect();
        let upserted: Vec<String> = staged
            .iter()
            .filter(|(_, c)| matches!(c, Change::Upsert { .. }))
            .map(|(p, _)| p.clone())
            .collect();
        paths.extend(upserted.iter().map(String::as_str));
        paths.sort_unstable();
        let by_path: HashMap<&str, &crate::store::FileEntry> =
            committed.map(|f| (f.path.as_str(), f)).collect();
        let plan = Settings::plan_for(self.units, !self.reembed_all, self.repool);
        let settings = self.settings(plan);
        let mut chunk = Vec::new();
        let mut chunk_spans = 0;
        for path in paths {
            let (hash, docs) = match staged.remove(path) {
                Some(Change::Upsert { hash, docs }) => (hash, docs),
                _ => match (by_path.get(path), prev) {
                    (Some(f), Some(p)) => (f.content_hash.clone(), p.store().file_documents(f)),
                    _ => continue,
                },
            };
            chunk_spans += docs.iter().map(|d| d.spans.len()).sum::<usize>();
            chunk.push((path.to_string(), hash, docs));
            if chunk_spans >= self.chunk_spans {
                open.flush(
                    std::mem::take(&mut chunk),
                    &settings,
                    prev,
                    report,
                    progress,
                )?;
                chunk_spans = 0;
            }
        }
        open.flush(chunk, &settings, prev, report, progress)?;
        out.embedded += open.embedded;
        out.embed_seconds += open.embed_seconds;
        let manifest = open.finish(&settings)?;
        self.committed(manifest.generation)?;
        Ok(manifest)
    }

    /// After generation `number` is committed: the next commit starts from
    /// it, and the ones before it are removed in the background. The
    /// commit is durable and current already, and unlinking the previous
    /// generation's files (~1,400 at a million spans) was a visible share
    /// of a one-file commit there. At most one sweep runs; the next one, and
    /// dropping the writer, wait for it.
    fn committed(&mut self, number: u64) -> Result<(), IndexError> {
        self.previous = Some(Arc::new(Index::open(&self.dir)?));
        self.wait_sweep();
        let dir = self.dir.clone();
        let sweep = std::thread::Builder::new()
            .name("bubble-sweep".into())
            .spawn(move || generation::sweep_older(&dir, number));
        match sweep {
            Ok(handle) => self.sweeper = Some(handle),
            Err(_) => generation::sweep_older(&self.dir, number),
        }
        Ok(())
    }

    fn wait_sweep(&mut self) {
        if let Some(handle) = self.sweeper.take() {
            let _ = handle.join();
        }
    }
}

/// A recorded path a client may give: relative, `/`-separated, no `..`.
/// Checks a document path as a writer records it: relative, `/`-separated,
/// canonical (no empty or `.` parts, no `..` but leading ones).
pub fn check_path(path: &str) -> Result<(), IndexError> {
    // Leading `..` steps stay allowed (a file outside the root is recorded
    // so); anywhere else a name would not be canonical: `a/../b` is `b`.
    let inner_parent = path
        .split('/')
        .skip_while(|part| *part == "..")
        .any(|part| part == "..");
    let bad = path.is_empty()
        || path.len() > 4096
        || path.contains(['\0', '\\'])
        || inner_parent
        || path.split('/').any(|part| part.is_empty() || part == ".");
    if bad {
        return Err(IndexError::BadPath(path.to_string()));
    }
    Ok(())
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

/// The index's root: the one it was created with, else the requested
/// one, else the working directory; absolute and canonical.
fn resolve_root(previous: Option<&Index>, requested: Option<&Path>) -> Result<PathBuf, IndexError> {
    use crate::error::IoContext;
    if let Some(p) = previous {
        return Ok(PathBuf::from(&p.manifest().root));
    }
    let root = match requested {
        Some(r) => r.to_path_buf(),
        None => std::env::current_dir().io("reading", Path::new("."))?,
    };
    root.canonicalize().io("resolving", &root)
}
