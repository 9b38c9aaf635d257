//! The graph file: written once by a build, mapped and searched in place.

use super::search::{Links, Walk};
use super::{distance, Near, Points, Visited, M, M0, MAX_LAYER};
use crate::checksums::Checked;
use crate::error::{IndexError, IoContext};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"BHNSW\x00\x00\x01";
/// Magic, then `n`, `m`, `m0`, entry, top layer, upper words.
const HEADER: usize = 8 + 6 * 4;

/// Writes a built graph and syncs it.
pub(super) fn write(
    path: &Path,
    layers: &[u8],
    layer0: &[u32],
    upper: &[Vec<u32>],
    entry: Option<(u32, u8)>,
) -> Result<(), IndexError> {
    let n = layers.len();
    let upper_words: usize = upper.iter().map(Vec::len).sum();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).io("creating", path)?);
    let (entry, top) = entry.map_or((0, 0), |(e, t)| (e, u32::from(t)));
    let mut put = |bytes: &[u8]| out.write_all(bytes).io("writing", path);
    put(MAGIC)?;
    for w in [n, M, M0, entry as usize, top as usize, upper_words] {
        put(&(w as u32).to_le_bytes())?;
    }
    put(layers)?;
    put(&[0u8; 3][..padding(n)])?;
    for w in layer0 {
        put(&w.to_le_bytes())?;
    }
    let mut offset = 0u32;
    put(&offset.to_le_bytes())?;
    for list in upper {
        offset += list.len() as u32;
        put(&offset.to_le_bytes())?;
    }
    for w in upper.iter().flatten() {
        put(&w.to_le_bytes())?;
    }
    let file = out
        .into_inner()
        .map_err(|e| e.into_error())
        .io("writing", path)?;
    file.sync_all().io("syncing", path)
}

fn padding(n: usize) -> usize {
    (4 - n % 4) % 4
}

/// A graph file, mapped. Every read is checked against the file's bounds
/// and the header's limits, so a damaged file is an error.
pub(crate) struct GraphFile {
    file: Arc<Checked>,
    path: PathBuf,
    n: usize,
    entry: u32,
    top: u8,
    /// Byte offsets of the tables.
    layer0_at: usize,
    offsets_at: usize,
    upper_at: usize,
}

impl GraphFile {
    /// Opens graph `file` and checks its header and length.
    pub(crate) fn open(file: Arc<Checked>) -> Result<GraphFile, IndexError> {
        let path = file.path().to_path_buf();
        let path = path.as_path();
        let map = file.read(0..HEADER.min(file.len()))?;
        let corrupt = |detail: &str| IndexError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("graph file: {detail}"),
        };
        if map.get(..8) != Some(&MAGIC[..]) || map.len() < HEADER {
            return Err(corrupt("not a graph file of this version"));
        }
        let word = |i: usize| {
            let w = &map[8 + 4 * i..12 + 4 * i];
            u32::from_le_bytes([w[0], w[1], w[2], w[3]]) as usize
        };
        let (n, m, m0, entry, top, upper_words) =
            (word(0), word(1), word(2), word(3), word(4), word(5));
        if m != M || m0 != M0 || top > usize::from(MAX_LAYER) || (n > 0 && entry >= n) {
            return Err(corrupt("header out of range"));
        }
        let layer0_at = HEADER + n + padding(n);
        let offsets_at = layer0_at + 4 * n * (1 + M0);
        let upper_at = offsets_at + 4 * (n + 1);
        if file.len() != upper_at + 4 * upper_words {
            return Err(corrupt("length does not match its header"));
        }
        Ok(GraphFile {
            file,
            path: path.to_path_buf(),
            n,
            entry: entry as u32,
            top: top as u8,
            layer0_at,
            offsets_at,
            upper_at,
        })
    }

    /// Points in the graph.
    pub(crate) fn len(&self) -> usize {
        self.n
    }

    fn corrupt(&self, detail: &str) -> IndexError {
        IndexError::Corrupt {
            path: self.path.clone(),
            detail: format!("graph file: {detail}"),
        }
    }

    /// `len` words at byte `at`, in place.
    fn words(&self, at: usize, len: usize) -> Result<&[u32], IndexError> {
        let bytes = self.file.read(at..at + 4 * len)?;
        // Safety: every bit pattern is a u32; the map is page-aligned and
        // `at` a multiple of 4, and a misaligned slice is refused anyway.
        let (head, words, tail) = unsafe { bytes.align_to::<u32>() };
        if !head.is_empty() || !tail.is_empty() {
            return Err(self.corrupt("misaligned table"));
        }
        Ok(words)
    }

    /// The nearest `k` nodes to `query` that `keep` accepts, nearest
    /// first; `ef` is the breadth of the search on layer 0.
    pub(crate) fn search(
        &self,
        points: &impl Points,
        query: &[f32],
        k: usize,
        ef: usize,
        keep: &dyn Fn(u32) -> bool,
    ) -> Result<Vec<Near>, IndexError> {
        if self.n == 0 || k == 0 {
            return Ok(Vec::new());
        }
        if points.len() != self.n {
            return Err(self.corrupt("graph and vectors disagree on the number of points"));
        }
        let walk = Walk {
            links: self,
            points,
            query,
        };
        let mut from = Near {
            distance: distance(query, points.vector(self.entry)?),
            node: self.entry,
        };
        for layer in (1..=self.top).rev() {
            from = walk.greedy(from, layer)?;
        }
        let mut visited = Visited::new(self.n);
        let mut found = walk.layer(&[from], ef.max(k), 0, keep, &mut visited)?;
        found.truncate(k);
        Ok(found)
    }
}

impl Links for GraphFile {
    fn neighbours(&self, node: u32, layer: u8) -> Result<&[u32], IndexError> {
        let i = node as usize;
        if i >= self.n {
            return Err(self.corrupt("a link to a node out of range"));
        }
        let (list, cap) = if layer == 0 {
            (self.words(self.layer0_at + 4 * i * (1 + M0), 1 + M0)?, M0)
        } else {
            let own = self.file.read(HEADER + i..HEADER + i + 1)?[0];
            if layer > own {
                return Ok(&[]);
            }
            let bounds = self.words(self.offsets_at + 4 * i, 2)?;
            let start = bounds[0] as usize + (usize::from(layer) - 1) * (1 + M);
            if bounds[1] as usize != bounds[0] as usize + usize::from(own) * (1 + M) {
                return Err(self.corrupt("upper lists out of step with the layers"));
            }
            (self.words(self.upper_at + 4 * start, 1 + M)?, M)
        };
        let count = list[0] as usize;
        if count > cap {
            return Err(self.corrupt("a neighbour list longer than its capacity"));
        }
        let out = &list[1..1 + count];
        if out.iter().any(|&o| o as usize >= self.n) {
            return Err(self.corrupt("a link to a node out of range"));
        }
        Ok(out)
    }
}
