//! Dense vectors: flat matrices (the exact vectors, for re-ranking and
//! redundancy) and HNSW graphs over them (`graph.rs`) for search.
//!
//! A full build writes a matrix per chunk and graphs over them. An incremental commit
//! appends a matrix of the new spans' vectors, searched exactly (a scan
//! of a few thousand rows costs less than a graph insert would, and the
//! base graph stays the deterministic one a from-scratch build makes);
//! tombstoned ords are filtered out of both. A compaction folds the
//! appended matrices into a new base and graph.

use crate::checksums::GenerationFiles;
use crate::error::IndexError;
use crate::filter::{Allowed, Both};
use crate::graph::Graph;
use crate::manifest::GraphPart;
use crate::matrix_file;
use std::path::Path;

/// The matrix file of vectors starting at `first_ord` (names sort by ord).
pub(crate) fn matrix_file_name(first_ord: u32) -> String {
    format!("vectors-{first_ord:010}.f32")
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
    /// Mapped at open; a search reads the pages it walks.
    graphs: Vec<Graph>,
    /// Leading parts the graphs hold; later ones are scanned.
    graph_parts: usize,
    /// Live ords, when the index holds tombstones.
    live: Option<Allowed>,
}

impl VectorIndex {
    /// Opens the matrices `files` of a generation folder and the `graphs`
    /// over the leading ones; `live`, when given, hides tombstoned ords.
    pub(crate) fn open(
        files: &GenerationFiles,
        names: &[String],
        graphs: &[GraphPart],
        live: Option<Allowed>,
    ) -> Result<VectorIndex, IndexError> {
        let mut parts: Vec<matrix_file::Mapped> = Vec::with_capacity(names.len());
        for name in names {
            let path = files.dir().join(name);
            let part = matrix_file::Mapped::open(files.open(name)?, 4)?;
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
        let graph_parts: usize = graphs.iter().map(|g| g.vector_files).sum();
        if graph_parts > parts.len() {
            return Err(IndexError::Corrupt {
                path: files.dir().to_path_buf(),
                detail: format!("graphs cover {graph_parts} vector files of {}", parts.len()),
            });
        }
        let mut opened = Vec::with_capacity(graphs.len());
        let mut first = 0;
        for g in graphs {
            opened.push(Graph::open(files, g, first, &parts)?);
            first += g.vector_files;
        }
        Ok(VectorIndex {
            parts,
            dim,
            rows,
            graphs: opened,
            graph_parts,
            live,
        })
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
        let keep = |ord: u32| filter.contains(ord);
        let mut out: Vec<(u32, f32)> = Vec::new();
        for graph in &self.graphs {
            out.extend(graph.search(&self.parts, query, k, ef, &keep)?);
        }
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
    }

    /// Rebuilding from the same vectors gives the same graph: the same files,
    /// and the same answers at a small breadth (where the graph shows).
    #[test]
    fn rebuilds_are_identical() {
        let matrix = test_matrix(3000, 24, 0);
        let answers = || {
            let dir = tempfile::tempdir().unwrap();
            let name = write_appended(dir.path(), &matrix, 0).unwrap();
            let graphs =
                crate::graph::write_all(dir.path(), std::slice::from_ref(&name), 1 << 20).unwrap();
            let files = GenerationFiles::summed(dir.path());
            let index = VectorIndex::open(&files, &[name], &graphs, None).unwrap();
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
            crate::graph::write_all(dir.path(), &[name], 1 << 20).unwrap();
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

    /// Unit vectors of dimension `dim` for ords `first, first + 2, …`.
    fn test_matrix(n: usize, dim: usize, first: u32) -> VectorMatrix {
        let mut matrix = VectorMatrix::new(dim);
        for i in 0..n {
            let v: Vec<f32> = (0..dim)
                .map(|j| ((i * 31 + j * 17) as f32 * 0.013).sin())
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
            let v: Vec<f32> = v.iter().map(|x| x / norm).collect();
            matrix.push(first + 2 * i as u32, &v);
        }
        matrix
    }

    /// Vector files split across several graphs are searched as one: at a
    /// wide breadth the merged answers are the exact top k, and tombstoned
    /// ords never come back.
    #[test]
    fn several_graphs_answer_as_one() {
        let dir = tempfile::tempdir().unwrap();
        let (dim, per_file) = (16, 700);
        let mut files = Vec::new();
        let mut all = VectorMatrix::new(dim);
        for f in 0..4u32 {
            let m = test_matrix(per_file, dim, f * 2 * per_file as u32);
            for (ord, v) in m.rows() {
                all.push(ord, v);
            }
            files.push(write_appended(dir.path(), &m, f * 2 * per_file as u32).unwrap());
        }
        // Two files per graph: 700 rows are short of 1000, so a second joins.
        let graphs = crate::graph::write_all(dir.path(), &files, 1000).unwrap();
        assert_eq!(graphs.len(), 2);
        assert!(graphs.iter().all(|g| g.vector_files == 2));
        let ord_limit = 8 * per_file;
        let live = Allowed::from_fn(ord_limit, |o| o % 4 == 0);
        let summed = GenerationFiles::summed(dir.path());
        let index = VectorIndex::open(&summed, &files, &graphs, None).unwrap();
        let filtered = VectorIndex::open(&summed, &files, &graphs, Some(live.clone())).unwrap();
        let exact = |q: &[f32], keep: &dyn Fn(u32) -> bool| {
            let mut hits: Vec<(u32, f32)> = all
                .rows()
                .filter(|(o, _)| keep(*o))
                .map(|(o, v)| (o, dot(q, v)))
                .collect();
            hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            hits.into_iter().take(10).map(|h| h.0).collect::<Vec<_>>()
        };
        let (mut found, mut wanted) = (0, 0);
        for q in 0..50 {
            let query = all.rows().nth(q * 53).unwrap().1.to_vec();
            let got: Vec<u32> = index
                .search(&query, 10, 400, None)
                .unwrap()
                .iter()
                .map(|h| h.0)
                .collect();
            let want = exact(&query, &|_| true);
            found += got.iter().filter(|o| want.contains(o)).count();
            wanted += want.len();
            let kept = filtered.search(&query, 10, 400, None).unwrap();
            assert!(
                kept.iter().all(|h| live.contains(h.0)),
                "a tombstone came back"
            );
            assert_eq!(kept.len(), 10);
        }
        assert!(found * 100 >= wanted * 99, "recall {found}/{wanted}");
    }
}
