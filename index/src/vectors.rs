//! Dense vectors: a flat matrix (the exact vectors, for re-ranking and
//! redundancy) and an HNSW graph over it (hnsw_rs, cosine) for search.

use crate::error::IndexError;
use crate::filter::Allowed;
use crate::matrix_file;
use hnsw_rs::prelude::{AnnT, Distance, Hnsw, HnswIo};
use std::collections::HashMap;
use std::path::Path;

const MATRIX_FILE: &str = "vectors.f32";
const GRAPH_BASENAME: &str = "hnsw";
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

    fn write(&self, dir: &Path) -> Result<(), IndexError> {
        let elements = self.data.iter().map(|x| x.to_le_bytes());
        matrix_file::write(&dir.join(MATRIX_FILE), self.dim, &self.ords, elements)
    }

    fn read(dir: &Path) -> Result<VectorMatrix, IndexError> {
        let (dim, ords, bytes) = matrix_file::read(&dir.join(MATRIX_FILE), 4)?;
        let data = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok(VectorMatrix { dim, ords, data })
    }
}

/// Writes the matrix and its HNSW graph into a generation folder.
pub(crate) fn write(dir: &Path, matrix: &VectorMatrix) -> Result<(), IndexError> {
    matrix.write(dir)?;
    let hnsw: Hnsw<'_, f32, UnitCosine> = Hnsw::new(
        MAX_NB_CONNECTION,
        matrix.len().max(1),
        MAX_LAYER,
        EF_CONSTRUCTION,
        UnitCosine,
    );
    // One at a time, in ord order: the graph draws each point's layer from
    // a seeded generator, so a fixed order gives the same graph for the same
    // vectors on every rebuild (parallel insertion does not). Embedding the
    // text costs far more than this.
    for (ord, v) in matrix.rows() {
        hnsw.insert_slice((v, ord as usize));
    }
    hnsw.file_dump(dir, GRAPH_BASENAME)
        .map_err(|e| IndexError::Hnsw(e.to_string()))?;
    Ok(())
}

/// An opened vector index.
pub struct VectorIndex {
    matrix: VectorMatrix,
    row_of: HashMap<u32, usize>,
    hnsw: Hnsw<'static, f32, UnitCosine>,
}

impl VectorIndex {
    pub(crate) fn open(dir: &Path) -> Result<VectorIndex, IndexError> {
        let matrix = VectorMatrix::read(dir)?;
        // hnsw_rs ties a loaded graph's lifetime to its loader; the loader is
        // small (paths and options), so it lives as long as the process.
        let loader: &'static mut HnswIo = Box::leak(Box::new(HnswIo::new(dir, GRAPH_BASENAME)));
        let hnsw = loader
            .load_hnsw::<f32, UnitCosine>()
            .map_err(|e| IndexError::Hnsw(format!("loading graph in {}: {e}", dir.display())))?;
        let row_of = matrix
            .ords
            .iter()
            .enumerate()
            .map(|(i, o)| (*o, i))
            .collect();
        Ok(VectorIndex {
            matrix,
            row_of,
            hnsw,
        })
    }

    /// The exact matrix.
    pub fn matrix(&self) -> &VectorMatrix {
        &self.matrix
    }

    /// The vector of span `ord`, if it has one.
    pub fn vector(&self, ord: u32) -> Option<&[f32]> {
        let row = *self.row_of.get(&ord)?;
        let d = self.matrix.dim;
        self.matrix.data.get(row * d..(row + 1) * d)
    }

    /// The approximate top `k` spans by cosine, as `(ord, cosine)`, best
    /// first, ties broken by ord. `ef` is the HNSW search breadth.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        ef: usize,
        allowed: Option<&Allowed>,
    ) -> Vec<(u32, f32)> {
        if k == 0 || self.matrix.is_empty() || query.len() != self.matrix.dim {
            return Vec::new();
        }
        let ef = ef.max(k);
        let found = match allowed {
            Some(a) => self.hnsw.search_filter(query, k, ef, Some(a)),
            None => self.hnsw.search(query, k, ef),
        };
        let mut out: Vec<(u32, f32)> = found
            .into_iter()
            .map(|n| (n.d_id as u32, 1.0 - n.distance))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
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
            write(dir.path(), &matrix).unwrap();
            let index = VectorIndex::open(dir.path()).unwrap();
            (0..200)
                .map(|q| index.search(matrix.rows().nth(q * 13).unwrap().1, 5, 5, None))
                .collect::<Vec<_>>()
        };
        assert_eq!(answers(), answers());
        // And the same bytes on disk.
        let dump = || {
            let dir = tempfile::tempdir().unwrap();
            write(dir.path(), &matrix).unwrap();
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
