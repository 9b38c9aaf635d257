//! Unit vectors: one per compression unit (a sentence or clause of a block,
//! or a block that is a single unit: a one-sentence paragraph, a row, a code
//! block), pooled from the block's own forward pass at index time, so that
//! compression at query time is arithmetic over stored vectors.
//!
//! Stored as IEEE half floats: a unit vector's cosine to the query moves by
//! about 1e-3 at most (the rounding of 384 components of a unit vector),
//! far below the gaps that order units, at half the bytes of `f32`.

use crate::checksums::GenerationFiles;
use crate::error::IndexError;
use crate::matrix_file;
use half::f16;
use std::collections::HashMap;
use std::path::Path;

/// The unit-vector file of the segment starting at `first_ord`: a full
/// build writes one, each incremental commit appends one.
pub(crate) fn units_file_name(first_ord: u32) -> String {
    format!("units-{first_ord:010}.f16")
}

/// Unit vectors keyed by span ord: built in memory, read from mapped
/// files (a file whose ords do not ascend is read into memory instead).
#[derive(Default)]
pub struct UnitVectors {
    dim: usize,
    ords: Vec<u32>,
    data: Vec<f16>,
    row_of: HashMap<u32, usize>,
    parts: Vec<matrix_file::Mapped>,
}

impl std::fmt::Debug for UnitVectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnitVectors")
            .field("dim", &self.dim)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl UnitVectors {
    /// An empty set of dimension `dim`.
    pub fn new(dim: usize) -> UnitVectors {
        UnitVectors {
            dim,
            ..Default::default()
        }
    }

    /// Appends the vector of unit `ord` (rounded to half precision).
    pub fn push(&mut self, ord: u32, v: &[f32]) {
        debug_assert_eq!(v.len(), self.dim);
        self.row_of.insert(ord, self.ords.len());
        self.ords.push(ord);
        self.data.extend(v.iter().map(|&x| f16::from_f32(x)));
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.ords.len() + self.parts.iter().map(|p| p.len()).sum::<usize>()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The vectors built in memory, as `(ord, vector)` in the order pushed.
    pub fn rows(&self) -> impl Iterator<Item = (u32, &[f16])> {
        self.ords
            .iter()
            .copied()
            .zip(self.data.chunks_exact(self.dim.max(1)))
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The stored vector of unit `ord`, if it has one.
    pub fn get(&self, ord: u32) -> Option<&[f16]> {
        if let Some(&row) = self.row_of.get(&ord) {
            return self.data.get(row * self.dim..(row + 1) * self.dim);
        }
        self.parts.iter().find_map(|p| {
            let (first, last) = (p.first_ord()?, p.ord(p.len() - 1));
            if !(first..=last).contains(&ord) {
                return None;
            }
            p.row_of(ord).map(|row| p.row::<f16>(row))
        })
    }

    /// Appends the vector of unit `ord`, widened to `f32`, to `out`; false
    /// (and `out` unchanged) when the unit has none.
    pub fn extend_f32(&self, ord: u32, out: &mut Vec<f32>) -> bool {
        match self.get(ord) {
            Some(v) => {
                out.extend(v.iter().map(|x| x.to_f32()));
                true
            }
            None => false,
        }
    }

    /// Writes the vectors into `dir` as the file of the segment starting
    /// at `first_ord`; returns its name.
    pub(crate) fn write(&self, dir: &Path, first_ord: u32) -> Result<String, IndexError> {
        let name = units_file_name(first_ord);
        let elements = self.data.iter().map(|x| x.to_le_bytes());
        matrix_file::write(&dir.join(&name), self.dim, &self.ords, elements)?;
        Ok(name)
    }

    /// Reads the files `names` of a generation, in order.
    pub(crate) fn read(
        files: &GenerationFiles,
        names: &[String],
    ) -> Result<UnitVectors, IndexError> {
        let mut out = UnitVectors::default();
        for name in names {
            let path = files.dir().join(name);
            let part = matrix_file::Mapped::open(files.open(name)?, 2)?;
            if part.len() > 0 && !out.is_empty() && part.dim() != out.dim {
                return Err(IndexError::Corrupt {
                    path,
                    detail: format!(
                        "unit vectors of dimension {}, the index's are {}",
                        part.dim(),
                        out.dim
                    ),
                });
            }
            if part.ascending() {
                if part.len() > 0 {
                    out.dim = part.dim();
                }
                out.parts.push(part);
                continue;
            }
            let (dim, ords, bytes) = matrix_file::read(&part)?;
            if out.dim != dim && !out.is_empty() {
                return Err(IndexError::Corrupt {
                    path,
                    detail: format!(
                        "unit vectors of dimension {dim}, the index's are {}",
                        out.dim
                    ),
                });
            }
            out.dim = dim;
            for o in ords {
                out.row_of.insert(o, out.ords.len());
                out.ords.push(o);
            }
            out.data.extend(
                bytes
                    .chunks_exact(2)
                    .map(|c| f16::from_le_bytes([c[0], c[1]])),
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_half_precision_and_rejects_damage() {
        let dir = tempfile::tempdir().unwrap();
        let mut u = UnitVectors::new(3);
        u.push(7, &[0.6, 0.8, 0.0]);
        u.push(2, &[0.0, 0.0, 1.0]);
        let name = u.write(dir.path(), 0).unwrap();
        let names = [name.clone()];
        let back = UnitVectors::read(&GenerationFiles::summed(dir.path()), &names).unwrap();
        assert_eq!(back.len(), 2);
        let mut v = Vec::new();
        assert!(back.extend_f32(7, &mut v));
        assert!((v[0] - 0.6).abs() < 1e-3 && (v[1] - 0.8).abs() < 1e-3);
        assert!(!back.extend_f32(3, &mut v));
        let path = dir.path().join(&name);
        let bytes = std::fs::read(&path).unwrap();
        drop(back);
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(matches!(
            UnitVectors::read(&GenerationFiles::summed(dir.path()), &names),
            Err(IndexError::Corrupt { .. })
        ));
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, [1u8, 0, 0]).unwrap();
        assert!(UnitVectors::read(&GenerationFiles::summed(dir.path()), &names).is_err());
    }
}
