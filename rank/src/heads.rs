//! The two heads, their file, and the folded projection queries are
//! scored with.

use crate::RankError;
use std::io::Write;
use std::path::Path;

/// The first line of a heads file.
const MAGIC: &str = "bubble-rank-heads 1";

/// The prefix head `P` and the continuation head `C` (row-major `dim` ×
/// `dim`): a query `q` scores a span vector `v` as `(P q) · (C v)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Heads {
    dim: usize,
    prefix: Vec<f32>,
    continuation: Vec<f32>,
    /// How the heads were made (data, seed, options), written into the file.
    pub meta: serde_json::Value,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    dim: usize,
    /// FNV-1a (64 bit) of the matrices' bytes, hex.
    checksum: String,
    meta: serde_json::Value,
}

fn fnv(bytes: &[u8]) -> String {
    let h = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{h:016x}")
}

impl Heads {
    /// Heads that leave vectors as they are: the score is the cosine the
    /// dense retrieval already computed.
    pub fn identity(dim: usize) -> Heads {
        let mut eye = vec![0.0; dim * dim];
        for i in 0..dim {
            eye[i * dim + i] = 1.0;
        }
        Heads {
            dim,
            prefix: eye.clone(),
            continuation: eye,
            meta: serde_json::Value::Null,
        }
    }

    pub(crate) fn from_parts(
        dim: usize,
        prefix: Vec<f32>,
        continuation: Vec<f32>,
        meta: serde_json::Value,
    ) -> Heads {
        Heads {
            dim,
            prefix,
            continuation,
            meta,
        }
    }

    /// The vector size.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The prefix head, row-major.
    pub fn prefix(&self) -> &[f32] {
        &self.prefix
    }

    /// The continuation head, row-major.
    pub fn continuation(&self) -> &[f32] {
        &self.continuation
    }

    /// Writes the heads to `path` (through a temporary file and a rename,
    /// so a crash leaves the old file or the new one).
    pub fn write(&self, path: &Path) -> Result<(), RankError> {
        let io = |source| RankError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut body = Vec::with_capacity(8 * self.dim * self.dim);
        for x in self.prefix.iter().chain(&self.continuation) {
            body.extend_from_slice(&x.to_le_bytes());
        }
        let header = Header {
            dim: self.dim,
            checksum: fnv(&body),
            meta: self.meta.clone(),
        };
        let header = serde_json::to_string(&header).map_err(|e| RankError::Corrupt {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(format!("{MAGIC}\n{header}\n").as_bytes())
            .map_err(io)?;
        f.write_all(&body).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads heads written by [`Heads::write`], checking their size,
    /// checksum and values before anything uses them.
    pub fn read(path: &Path) -> Result<Heads, RankError> {
        let bytes = std::fs::read(path).map_err(|source| RankError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |detail: String| RankError::Corrupt {
            path: path.to_path_buf(),
            detail,
        };
        let mut lines = bytes.splitn(3, |&b| b == b'\n');
        if lines.next() != Some(MAGIC.as_bytes()) {
            return Err(bad(format!("does not start with {MAGIC:?}")));
        }
        let header: Header = serde_json::from_slice(lines.next().unwrap_or_default())
            .map_err(|e| bad(format!("header: {e}")))?;
        let body = lines.next().unwrap_or_default();
        let dim = header.dim;
        if dim == 0 || dim > 8192 || body.len() != 8 * dim * dim {
            return Err(bad(format!(
                "{} bytes of matrices for dimension {dim}",
                body.len()
            )));
        }
        if fnv(body) != header.checksum {
            return Err(bad("checksum mismatch".into()));
        }
        let values: Vec<f32> = body
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(bad("a value is not finite".into()));
        }
        let (p, c) = values.split_at(dim * dim);
        Ok(Heads::from_parts(dim, p.to_vec(), c.to_vec(), header.meta))
    }

    /// The ranker these heads score with.
    pub fn ranker(&self) -> Ranker {
        // (P q) · (C v) = (Cᵀ P q) · v: fold both heads into one matrix,
        // so a query is projected once and a candidate costs a dot product.
        let d = self.dim;
        let mut fold = vec![0.0f32; d * d];
        for j in 0..d {
            let c_row = &self.continuation[j * d..(j + 1) * d];
            let p_row = &self.prefix[j * d..(j + 1) * d];
            for (i, &cji) in c_row.iter().enumerate() {
                if cji == 0.0 {
                    continue;
                }
                let out = &mut fold[i * d..(i + 1) * d];
                for (o, &p) in out.iter_mut().zip(p_row) {
                    *o += cji * p;
                }
            }
        }
        Ranker {
            dim: d,
            fold,
            meta: self.meta.clone(),
        }
    }
}

/// Scores spans as continuations of a query: [`Ranker::prefix`] projects
/// the query once, and each span's score is the dot product of that
/// projection with the span's stored vector.
#[derive(Debug, Clone)]
pub struct Ranker {
    dim: usize,
    fold: Vec<f32>,
    meta: serde_json::Value,
}

impl Ranker {
    /// The vector size it expects.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// How its heads were made.
    pub fn meta(&self) -> &serde_json::Value {
        &self.meta
    }

    /// The query's projection (`Cᵀ P q`), or `None` for a vector of another size.
    pub fn prefix(&self, query: &[f32]) -> Option<Vec<f32>> {
        if query.len() != self.dim {
            return None;
        }
        Some(
            self.fold
                .chunks_exact(self.dim)
                .map(|row| dot(row, query))
                .collect(),
        )
    }

    /// A span's score as a continuation of the projected query.
    pub fn score(prefix: &[f32], span: &[f32]) -> f32 {
        dot(prefix, span)
    }
}

pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight lanes let the compiler vectorise the sum.
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folded_projection_scores_like_both_heads() {
        let d = 3;
        let p = vec![1.0, 2.0, 0.0, 0.0, 1.0, 0.0, 0.5, 0.0, 1.0];
        let c = vec![0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 2.0];
        let heads = Heads::from_parts(d, p.clone(), c.clone(), serde_json::Value::Null);
        let (q, v) = ([0.3, -0.2, 0.9], [0.5, 0.1, -0.4]);
        let mul =
            |m: &[f32], x: &[f32]| -> Vec<f32> { m.chunks_exact(d).map(|r| dot(r, x)).collect() };
        let want = dot(&mul(&p, &q), &mul(&c, &v));
        let got = Ranker::score(&heads.ranker().prefix(&q).unwrap(), &v);
        assert!((want - got).abs() < 1e-5, "{want} vs {got}");
        // Identity heads score by the plain dot product.
        let id = Heads::identity(d).ranker();
        assert!((Ranker::score(&id.prefix(&q).unwrap(), &v) - dot(&q, &v)).abs() < 1e-6);
        assert!(id.prefix(&[1.0]).is_none());
    }

    #[test]
    fn a_damaged_file_is_an_error() {
        let dir = std::env::temp_dir().join(format!("bubble-rank-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("h.bin");
        let heads = Heads::identity(4);
        heads.write(&path).unwrap();
        assert_eq!(Heads::read(&path).unwrap(), heads);
        let mut bytes = std::fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n - 3] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(Heads::read(&path), Err(RankError::Corrupt { .. })));
        std::fs::write(&path, &bytes[..n - 8]).unwrap();
        assert!(matches!(Heads::read(&path), Err(RankError::Corrupt { .. })));
        std::fs::write(&path, b"nonsense").unwrap();
        assert!(matches!(Heads::read(&path), Err(RankError::Corrupt { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
