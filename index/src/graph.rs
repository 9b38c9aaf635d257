//! The HNSW graphs ([`crate::hnsw`]) over the block vectors of a fresh write.
//!
//! One graph per run of vector files holding up to [`GRAPH_POINTS`]
//! vectors, not one over the whole index: a build maps the points of the
//! graph it is building, so a bounded graph keeps the build's memory flat
//! at millions of spans, and graphs are independent, so they build side by
//! side on separate cores while each stays deterministic (its points go in
//! one at a time, in ord order). A search asks every graph and merges.

use crate::checksums::GenerationFiles;
use crate::error::IndexError;
use crate::hnsw;
use crate::manifest::GraphPart;
use crate::matrix_file;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Most vectors one graph takes before the next starts (a file is never
/// split, so a graph may pass it by less than one file).
pub(crate) const GRAPH_POINTS: usize = 131_072;
/// Graphs built at once: each maps its points while it builds.
const BUILD_THREADS: usize = 2;

/// The file of graph `name`.
pub(crate) fn file_of(name: &str) -> String {
    format!("{name}.graph")
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
        mapped.push(matrix_file::Mapped::fresh(&dir.join(file), 4)?);
    }
    hnsw::build(&Rows::new(&mapped), &dir.join(file_of(name)))
}

/// The rows of consecutive vector files, numbered as one run: a graph's
/// nodes.
pub(crate) struct Rows<'a> {
    parts: &'a [matrix_file::Mapped],
    /// The node number of each part's first row.
    starts: Vec<usize>,
    len: usize,
}

impl<'a> Rows<'a> {
    pub(crate) fn new(parts: &'a [matrix_file::Mapped]) -> Rows<'a> {
        let mut starts = Vec::with_capacity(parts.len());
        let mut len = 0;
        for p in parts {
            starts.push(len);
            len += p.len();
        }
        Rows { parts, starts, len }
    }

    /// The part and row of `node`.
    fn locate(&self, node: u32) -> Option<(&matrix_file::Mapped, usize)> {
        let node = node as usize;
        let i = self.starts.partition_point(|&s| s <= node).checked_sub(1)?;
        let row = node - self.starts[i];
        let part = self.parts.get(i)?;
        (row < part.len()).then_some((part, row))
    }

    /// The span ord of `node` (`u32::MAX` for none).
    pub(crate) fn ord(&self, node: u32) -> u32 {
        self.locate(node).map_or(u32::MAX, |(p, r)| p.ord(r))
    }
}

impl hnsw::Points for Rows<'_> {
    fn len(&self) -> usize {
        self.len
    }

    fn vector(&self, node: u32) -> Result<&[f32], IndexError> {
        match self.locate(node) {
            Some((part, row)) => Ok(part.row::<f32>(row)),
            None => Err(IndexError::Corrupt {
                path: Default::default(),
                detail: format!("graph node {node} has no vector"),
            }),
        }
    }
}

/// A graph a reader searches: its file, mapped at open.
pub(crate) struct Graph {
    file: hnsw::GraphFile,
    /// The vector files it covers: `first..first + count` of the index's.
    first: usize,
    count: usize,
}

impl Graph {
    /// Maps graph `part` of folder `dir`, whose nodes are the rows of the
    /// index's vector files `parts` from `first` on.
    pub(crate) fn open(
        files: &GenerationFiles,
        part: &GraphPart,
        first: usize,
        parts: &[matrix_file::Mapped],
    ) -> Result<Graph, IndexError> {
        let name = file_of(&part.name);
        let path = files.dir().join(&name);
        let file = hnsw::GraphFile::open(files.open(&name)?)?;
        let rows = parts
            .get(first..first + part.vector_files)
            .map(|own| own.iter().map(|p| p.len()).sum::<usize>());
        if rows != Some(file.len()) {
            return Err(IndexError::Corrupt {
                path,
                detail: "the graph and its vector files disagree on the number of points".into(),
            });
        }
        Ok(Graph {
            file,
            first,
            count: part.vector_files,
        })
    }

    /// The top `k` of this graph's points that `keep` accepts, as `(ord,
    /// cosine)`; `parts` are all of the index's vector files.
    pub(crate) fn search(
        &self,
        parts: &[matrix_file::Mapped],
        query: &[f32],
        k: usize,
        ef: usize,
        keep: &dyn Fn(u32) -> bool,
    ) -> Result<Vec<(u32, f32)>, IndexError> {
        let own = parts
            .get(self.first..self.first + self.count)
            .ok_or_else(|| IndexError::Corrupt {
                path: Default::default(),
                detail: "a graph covers vector files the index lacks".into(),
            })?;
        let rows = Rows::new(own);
        let found = self
            .file
            .search(&rows, query, k, ef, &|node| keep(rows.ord(node)))?;
        Ok(found
            .into_iter()
            .map(|n| (rows.ord(n.node), 1.0 - n.distance))
            .collect())
    }
}
