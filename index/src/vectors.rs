//! Dense vectors: flat matrices (the exact vectors, for re-ranking and
//! redundancy) and an HNSW graph (hnsw_rs, cosine) for search.
//!
//! A full build writes one matrix and its graph. An incremental commit
//! appends a matrix of the new spans' vectors, searched exactly (a scan
//! of a few thousand rows costs less than a graph insert would, and the
//! base graph stays the deterministic one a from-scratch build makes);
//! tombstoned ords are filtered out of both. A compaction folds the
//! appended matrices into a new base and graph.

use crate::error::IndexError;
use crate::filter::{Allowed, Both};
use crate::matrix_file;
use hnsw_rs::prelude::{AnnT, Distance, Hnsw, HnswIo};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const GRAPH_BASENAME: &str = "hnsw";

/// The matrix file of vectors starting at `first_ord` (names sort by ord).
pub(crate) fn matrix_file_name(first_ord: u32) -> String {
    format!("vectors-{first_ord:010}.f32")
}

/// The graph's files, carried with the base matrix into later generations.
pub(crate) fn graph_files() -> [String; 2] {
    [
        format!("{GRAPH_BASENAME}.hnsw.graph"),
        format!("{GRAPH_BASENAME}.hnsw.data"),
    ]
}
const MAX_NB_CONNECTION: usize = 16;
const EF_CONSTRUCTION: usize = 200;
const MAX_LAYER: usize = 16;

/// Cosine distance for unit vectors (fastembed normalises every embedding):
/// `1 - a·b`, one multiply-add per dimension instead of the three (and a
/// square root) a general cosine needs. Clamped at 0 because rounding can
/// put the dot product of near-duplicates a hair above 1.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnitCosine;

impl Distance<f32> for UnitCosine {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        (1.0 - dot(a, b)).max(0.0)
    }
}

/// Dot product in eight independent lanes, which the compiler vectorises.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for ((lane, x), y) in lanes.iter_mut().zip(x).zip(y) {
            *lane += x * y;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Vectors of retrievable spans, keyed by span ord.
#[derive(Debug, Clone, Default)]
pub struct VectorMatrix {
    dim: usize,
    ords: Vec<u32>,
    data: Vec<f32>,
}

impl VectorMatrix {
    /// An empty matrix of dimension `dim`.
    pub fn new(dim: usize) -> VectorMatrix {
        VectorMatrix {
            dim,
            ..Default::default()
        }
    }

    /// Appends the vector of span `ord`.
    pub fn push(&mut self, ord: u32, v: &[f32]) {
        debug_assert_eq!(v.len(), self.dim);
        self.ords.push(ord);
        self.data.extend_from_slice(v);
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.ords.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ords.is_empty()
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// `(ord, vector)` pairs in row order.
    pub fn rows(&self) -> impl Iterator<Item = (u32, &[f32])> {
        self.ords
            .iter()
            .copied()
            .zip(self.data.chunks_exact(self.dim.max(1)))
    }

    fn write(&self, path: &Path) -> Result<(), IndexError> {
        let elements = self.data.iter().map(|x| x.to_le_bytes());
        matrix_file::write(path, self.dim, &self.ords, elements)
    }

    /// Appends the rows of the matrix file at `path`.
    fn read_into(&mut self, path: &Path) -> Result<(), IndexError> {
        let (dim, ords, bytes) = matrix_file::read(path, 4)?;
        if self.dim != dim && !self.ords.is_empty() {
            return Err(IndexError::Corrupt {
                path: path.to_path_buf(),
                detail: format!("vectors of dimension {dim}, the index's are {}", self.dim),
            });
        }
        self.dim = dim;
        self.ords.extend(ords);
        self.data.extend(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
        Ok(())
    }
}

/// Builds the HNSW graph over the vector files `files` of generation
/// folder `dir`, read one at a time (the graph keeps its own copy of each
/// point, so no matrix is held beside it).
pub(crate) fn write_graph(dir: &Path, files: &[String]) -> Result<(), IndexError> {
    let mut total = 0;
    for name in files {
        total += matrix_file::count(&dir.join(name))?;
    }
    let hnsw: Hnsw<'_, f32, UnitCosine> = Hnsw::new(
        MAX_NB_CONNECTION,
        total.max(1),
        MAX_LAYER,
        EF_CONSTRUCTION,
        UnitCosine,
    );
    // One at a time, in ord order: the graph draws each point's layer from
    // a seeded generator, so a fixed order gives the same graph for the same
    // vectors on every rebuild (parallel insertion does not). Embedding the
    // text costs far more than this.
    for name in files {
        let mut part = VectorMatrix::default();
        part.read_into(&dir.join(name))?;
        for (ord, v) in part.rows() {
            hnsw.insert_slice((v, ord as usize));
        }
    }
    hnsw.file_dump(dir, GRAPH_BASENAME)
        .map_err(|e| IndexError::Hnsw(e.to_string()))?;
    Ok(())
}

/// Writes the vectors of the segment starting at `first_ord`; returns the
/// file's name. A fresh generation's graph is built over its files at the
/// end; an appended file is searched exactly.
pub(crate) fn write_appended(
    dir: &Path,
    matrix: &VectorMatrix,
    first_ord: u32,
) -> Result<String, IndexError> {
    let name = matrix_file_name(first_ord);
    matrix.write(&dir.join(&name))?;
    Ok(name)
}

/// An opened vector index: its files mapped, nothing read in full.
pub struct VectorIndex {
    parts: Vec<matrix_file::Mapped>,
    dim: usize,
    rows: usize,
    /// Loaded on the first search: a writer, and a reader that only looks
    /// vectors up, never pay for it (hnsw_rs reads the graph and its copy
    /// of the vectors in full).
    graph: OnceLock<Result<Hnsw<'static, f32, UnitCosine>, String>>,
    dir: PathBuf,
    /// Leading parts the graph holds; later ones are scanned.
    graph_parts: usize,
    /// Live ords, when the index holds tombstones.
    live: Option<Allowed>,
}

impl VectorIndex {
    /// Opens the matrices `files` of a generation folder, the graph over
    /// the first `graph_files` of them; `live`, when given, hides
    /// tombstoned ords.
    pub(crate) fn open(
        dir: &Path,
        files: &[String],
        graph_files: usize,
        live: Option<Allowed>,
    ) -> Result<VectorIndex, IndexError> {
        let mut parts: Vec<matrix_file::Mapped> = Vec::with_capacity(files.len());
        for name in files {
            let path = crate::generation::file_in(dir, name)?;
            let part = matrix_file::Mapped::open(&path, 4)?;
            let follows = match (
                parts
                    .last()
                    .and_then(|p| p.len().checked_sub(1).map(|i| p.ord(i))),
                part.first_ord(),
            ) {
                (Some(last), Some(first)) => first > last,
                _ => true,
            };
            let same_dim = parts
                .first()
                .is_none_or(|p| p.dim() == part.dim() || part.len() == 0);
            if !follows || !same_dim || !part.ascending() {
                return Err(IndexError::Corrupt {
                    path,
                    detail: "vector file out of order or of another dimension".into(),
                });
            }
            parts.push(part);
        }
        let dim = parts.iter().find(|p| p.len() > 0).map_or(0, |p| p.dim());
        let rows = parts.iter().map(|p| p.len()).sum();
        Ok(VectorIndex {
            parts,
            dim,
            rows,
            graph: OnceLock::new(),
            dir: dir.to_path_buf(),
            graph_parts: graph_files,
            live,
        })
    }

    fn graph(&self) -> Result<&Hnsw<'static, f32, UnitCosine>, IndexError> {
        let loaded = self.graph.get_or_init(|| {
            // hnsw_rs ties a loaded graph's lifetime to its loader; the loader
            // is small (paths and options), so it lives as long as the process.
            let loader: &'static mut HnswIo =
                Box::leak(Box::new(HnswIo::new(&self.dir, GRAPH_BASENAME)));
            loader
                .load_hnsw::<f32, UnitCosine>()
                .map_err(|e| format!("loading graph in {}: {e}", self.dir.display()))
        });
        loaded.as_ref().map_err(|e| IndexError::Hnsw(e.clone()))
    }

    /// Stored vectors.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The vector of span `ord`, if it has one.
    pub fn vector(&self, ord: u32) -> Option<&[f32]> {
        // The parts' ords ascend across parts too: the last part starting
        // at or before `ord` holds it, if any does.
        let i = self
            .parts
            .partition_point(|p| p.first_ord().is_none_or(|f| f <= ord));
        let part = self.parts.get(i.checked_sub(1)?)?;
        Some(part.row::<f32>(part.row_of(ord)?))
    }

    /// The approximate top `k` spans by cosine, as `(ord, cosine)`, best
    /// first, ties broken by ord. `ef` is the HNSW search breadth.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        ef: usize,
        allowed: Option<&Allowed>,
    ) -> Result<Vec<(u32, f32)>, IndexError> {
        if k == 0 || self.is_empty() || query.len() != self.dim {
            return Ok(Vec::new());
        }
        let ef = ef.max(k);
        let filter = Both(allowed, self.live.as_ref());
        let found = if self.graph_parts == 0 {
            Vec::new()
        } else if allowed.is_none() && self.live.is_none() {
            self.graph()?.search(query, k, ef)
        } else {
            self.graph()?.search_filter(query, k, ef, Some(&filter))
        };
        let mut out: Vec<(u32, f32)> = found
            .into_iter()
            .map(|n| (n.d_id as u32, 1.0 - n.distance))
            .collect();
        for part in self.parts.iter().skip(self.graph_parts) {
            out.extend(
                (0..part.len())
                    .map(|i| (part.ord(i), i))
                    .filter(|(o, _)| filter.contains(*o))
                    .map(|(o, i)| (o, dot(query, part.row::<f32>(i)))),
            );
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(k);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_the_naive_sum_at_every_length() {
        for n in [0, 1, 7, 8, 9, 384] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - naive).abs() < 1e-4, "n={n}");
        }
        let unit = [0.6f32, 0.8];
        assert_eq!(UnitCosine.eval(&unit, &unit), 0.0);
    }

    /// Rebuilding from the same vectors gives the same graph: the same files,
    /// and the same answers at a small breadth (where the graph shows).
    #[test]
    fn rebuilds_are_identical() {
        let (n, dim) = (3000, 24);
        let mut data = Vec::with_capacity(n * dim);
        for i in 0..n {
            let v: Vec<f32> = (0..dim)
                .map(|j| ((i * 31 + j * 17) as f32 * 0.013).sin())
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
            data.extend(v.iter().map(|x| x / norm));
        }
        let matrix = VectorMatrix {
            dim,
            ords: (0..n as u32).map(|o| o * 2).collect(),
            data,
        };
        let answers = || {
            let dir = tempfile::tempdir().unwrap();
            let name = write_appended(dir.path(), &matrix, 0).unwrap();
            write_graph(dir.path(), std::slice::from_ref(&name)).unwrap();
            let index = VectorIndex::open(dir.path(), &[name], 1, None).unwrap();
            (0..200)
                .map(|q| {
                    index
                        .search(matrix.rows().nth(q * 13).unwrap().1, 5, 5, None)
                        .unwrap()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(answers(), answers());
        // And the same bytes on disk.
        let dump = || {
            let dir = tempfile::tempdir().unwrap();
            let name = write_appended(dir.path(), &matrix, 0).unwrap();
            write_graph(dir.path(), &[name]).unwrap();
            let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    let name = e.file_name().to_string_lossy().into_owned();
                    (name, std::fs::read(e.path()).unwrap())
                })
                .collect();
            files.sort();
            files
        };
        assert!(dump() == dump(), "two builds wrote different files");
    }
}
