//! HNSW graphs (hnsw_rs, cosine) over the block vectors of a fresh write.
//!
//! One graph per run of vector files holding up to [`GRAPH_POINTS`]
//! vectors, not one over the whole index: building a graph holds its
//! points in memory, so a bounded graph keeps the build's memory flat at
//! millions of spans, and graphs are independent, so they build side by
//! side on separate cores while each stays deterministic (its points go in
//! one at a time, in ord order). A search asks every graph and merges.
//! Readers load a graph on its first search with its points memory-mapped
//! from the dump, so a reader's heap holds the links, not the vectors, and
//! every open generation that links the same graph file shares one load.

use crate::error::IndexError;
use crate::filter::Both;
use crate::manifest::GraphPart;
use crate::matrix_file;
use crate::vectors::UnitCosine;
use hnsw_rs::prelude::{AnnT, Hnsw, HnswIo, ReloadOptions};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// Most vectors one graph takes before the next starts (a file is never
/// split, so a graph may pass it by less than one file).
pub(crate) const GRAPH_POINTS: usize = 131_072;
/// Graphs built at once: each holds its points while it builds.
const BUILD_THREADS: usize = 2;
const MAX_NB_CONNECTION: usize = 16;
const EF_CONSTRUCTION: usize = 200;
const MAX_LAYER: usize = 16;

/// The two files hnsw_rs dumps for graph `name`.
pub(crate) fn files_of(name: &str) -> [String; 2] {
    [format!("{name}.hnsw.graph"), format!("{name}.hnsw.data")]
}

/// Builds the graphs over the vector files `files` of folder `dir` (in
/// ord order), each of about `points` vectors ([`GRAPH_POINTS`] in an
/// index), up to [`BUILD_THREADS`] at once; returns them in order.
pub(crate) fn write_all(
    dir: &Path,
    files: &[String],
    points: usize,
) -> Result<Vec<GraphPart>, IndexError> {
    let mut parts: Vec<GraphPart> = Vec::new();
    let mut rows_in_last = 0;
    for (i, file) in files.iter().enumerate() {
        let rows = matrix_file::count(&dir.join(file))?;
        match parts.last_mut() {
            Some(last) if rows_in_last < points => {
                last.vector_files += 1;
                rows_in_last += rows;
            }
            _ => {
                parts.push(GraphPart {
                    name: format!("hnsw-{i:04}"),
                    vector_files: 1,
                });
                rows_in_last = rows;
            }
        }
    }
    let mut starts = Vec::with_capacity(parts.len());
    let mut next = 0;
    for part in &parts {
        starts.push(next);
        next += part.vector_files;
    }
    let taken = AtomicUsize::new(0);
    let failure: Mutex<Option<IndexError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        let threads = BUILD_THREADS.min(parts.len());
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = taken.fetch_add(1, Ordering::Relaxed);
                let Some(part) = parts.get(i) else { break };
                let own = &files[starts[i]..starts[i] + part.vector_files];
                if let Err(e) = write_one(dir, &part.name, own) {
                    failure
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get_or_insert(e);
                    break;
                }
            });
        }
    });
    match failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(parts),
    }
}

/// Builds graph `name` over `files`, read in place from their mappings.
fn write_one(dir: &Path, name: &str, files: &[String]) -> Result<(), IndexError> {
    let mut mapped = Vec::with_capacity(files.len());
    for file in files {
        mapped.push(matrix_file::Mapped::open(&dir.join(file), 4)?);
    }
    let total: usize = mapped.iter().map(|m| m.len()).sum();
    let hnsw: Hnsw<'_, f32, UnitCosine> = Hnsw::new(
        MAX_NB_CONNECTION,
        total.max(1),
        MAX_LAYER,
        EF_CONSTRUCTION,
        UnitCosine,
    );
    // One at a time, in ord order: the graph draws each point's layer from
    // a seeded generator, so a fixed order gives the same graph for the same
    // vectors on every rebuild (parallel insertion does not).
    for part in &mapped {
        for i in 0..part.len() {
            hnsw.insert_slice((part.row::<f32>(i), part.ord(i) as usize));
        }
    }
    hnsw.file_dump(dir, name)
        .map_err(|e| IndexError::Hnsw(e.to_string()))?;
    Ok(())
}

/// A graph a reader may search, loaded on first use.
pub(crate) struct Graph {
    name: String,
    loaded: OnceLock<Result<Arc<Loaded>, String>>,
}

/// Graphs loaded in this process, by the identity (device, inode) of their
/// graph file. An appended generation hard-links its predecessor's graph
/// files, so a server that reopens the index after every commit finds the
/// graph already loaded instead of reading it again; a graph is freed when
/// no open index uses it.
static LOADED: Mutex<BTreeMap<(u64, u64), Weak<Loaded>>> = Mutex::new(BTreeMap::new());

/// The loaded graph `name` of folder `dir`, shared with every other open
/// generation that links the same file.
fn load_shared(dir: &Path, name: &str) -> Result<Arc<Loaded>, String> {
    use std::os::unix::fs::MetadataExt;
    let path = dir.join(&files_of(name)[0]);
    let meta = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let key = (meta.dev(), meta.ino());
    let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(graph) = loaded.get(&key).and_then(Weak::upgrade) {
        return Ok(graph);
    }
    loaded.retain(|_, g| g.strong_count() > 0);
    let graph = Arc::new(Loaded::load(dir, name)?);
    loaded.insert(key, Arc::downgrade(&graph));
    Ok(graph)
}

impl Graph {
    pub(crate) fn new(name: &str) -> Graph {
        Graph {
            name: name.to_string(),
            loaded: OnceLock::new(),
        }
    }

    /// The top `k` of this graph's points, as `(ord, cosine)`.
    pub(crate) fn search(
        &self,
        dir: &Path,
        query: &[f32],
        k: usize,
        ef: usize,
        filter: Option<&Both<'_>>,
    ) -> Result<Vec<(u32, f32)>, IndexError> {
        let loaded = self
            .loaded
            .get_or_init(|| load_shared(dir, &self.name))
            .as_ref()
            .map_err(|e| IndexError::Hnsw(e.clone()))?;
        let found = match filter {
            None => loaded.graph().search(query, k, ef),
            Some(f) => loaded.graph().search_filter(query, k, ef, Some(f)),
        };
        Ok(found
            .into_iter()
            .map(|n| (n.d_id as u32, 1.0 - n.distance))
            .collect())
    }
}

/// A loaded graph and the loader whose mapping its points borrow.
///
/// hnsw_rs ties a memory-mapped graph's lifetime to its loader, which owns
/// the mapping. The loader lives on the heap (its address never changes)
/// and is freed only after the graph is dropped, so the borrow the graph
/// holds stays valid for as long as it exists.
struct Loaded {
    graph: std::mem::ManuallyDrop<Hnsw<'static, f32, UnitCosine>>,
    loader: *mut HnswIo,
}

// SAFETY: the graph is only searched through `&self` (hnsw_rs's search
// takes `&self` and its points are behind `Arc`/`RwLock`), and the loader
// is never touched again until drop.
unsafe impl Send for Loaded {}
unsafe impl Sync for Loaded {}

impl Loaded {
    fn load(dir: &Path, name: &str) -> Result<Loaded, String> {
        let options = ReloadOptions::default().set_mmap(true);
        let loader = Box::into_raw(Box::new(HnswIo::new_with_options(dir, name, options)));
        // SAFETY: `loader` is a fresh, unique allocation; it is freed in
        // `Drop` after the graph borrowing it, or here on failure.
        let graph = unsafe { (*loader).load_hnsw::<f32, UnitCosine>() };
        match graph {
            Ok(graph) => Ok(Loaded {
                graph: std::mem::ManuallyDrop::new(graph),
                loader,
            }),
            Err(e) => {
                // SAFETY: no graph borrows the loader.
                drop(unsafe { Box::from_raw(loader) });
                Err(format!("loading graph {name} in {}: {e}", dir.display()))
            }
        }
    }

    fn graph(&self) -> &Hnsw<'static, f32, UnitCosine> {
        &self.graph
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        // SAFETY: the graph goes first, then the loader it borrowed from;
        // neither is used again.
        unsafe {
            std::mem::ManuallyDrop::drop(&mut self.graph);
            drop(Box::from_raw(self.loader));
        }
    }
}
