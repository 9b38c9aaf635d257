//! The one file layout of stored vectors (block vectors, unit vectors):
//! `dim` and `n` as little-endian `u32`, then `n` span ords, then `n × dim`
//! elements of a fixed width, synced on write and length-checked on read.
//! Read through its checksums: the header and ords when it opens, each
//! row when it is first read.

use crate::checksums::Checked;
use crate::error::{IndexError, IoContext};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// Writes the header and ords, then `elements` (each `WIDTH` bytes), and syncs.
pub(crate) fn write<const WIDTH: usize>(
    path: &Path,
    dim: usize,
    ords: &[u32],
    elements: impl Iterator<Item = [u8; WIDTH]>,
) -> Result<(), IndexError> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).io("creating", path)?);
    let header = [dim as u32, ords.len() as u32];
    for x in header.iter().chain(ords) {
        out.write_all(&x.to_le_bytes()).io("writing", path)?;
    }
    for e in elements {
        out.write_all(&e).io("writing", path)?;
    }
    let file = out
        .into_inner()
        .map_err(|e| e.into_error())
        .io("writing", path)?;
    file.sync_all().io("syncing", path)
}

/// Reads a file written by [`write`]: its dimension, ords and element bytes.
pub(crate) fn read(m: &Mapped) -> Result<(usize, Vec<u32>, Vec<u8>), IndexError> {
    let ords = (0..m.n).map(|i| m.ord(i)).collect();
    let elements = m.file.read(8 + 4 * m.n..m.file.len())?.to_vec();
    Ok((m.dim, ords, elements))
}

/// The number of rows of the file at `path`, from its header.
pub(crate) fn count(path: &Path) -> Result<usize, IndexError> {
    use std::io::Read;
    let mut header = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .io("reading", path)?;
    Ok(u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize)
}

/// A file written by [`write`], memory-mapped: its header checked, its
/// ords and elements read in place.
pub(crate) struct Mapped {
    file: Arc<Checked>,
    dim: usize,
    n: usize,
    width: usize,
}

impl Mapped {
    /// Opens `file` (elements of `width` bytes), checks its length, and
    /// reads its header and ords.
    pub(crate) fn open(file: Arc<Checked>, width: usize) -> Result<Mapped, IndexError> {
        let corrupt = |detail: &str| IndexError::Corrupt {
            path: file.path().to_path_buf(),
            detail: detail.to_string(),
        };
        let header = file
            .read(0..8.min(file.len()))?
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]) as usize)
            .collect::<Vec<_>>();
        let [dim, n] = header[..] else {
            return Err(corrupt("truncated header"));
        };
        let expected = n
            .checked_mul(dim)
            .and_then(|c| c.checked_mul(width))
            .and_then(|c| c.checked_add(8 + 4 * n));
        if expected != Some(file.len()) {
            return Err(corrupt("length does not match its header"));
        }
        // The ords are read by every lookup: check them once, now.
        file.read(8..8 + 4 * n)?;
        Ok(Mapped {
            file,
            dim,
            n,
            width,
        })
    }

    /// A vector file this process has just written (see [`Checked::fresh`]).
    pub(crate) fn fresh(path: &Path, width: usize) -> Result<Mapped, IndexError> {
        Mapped::open(Checked::fresh(path)?, width)
    }

    /// Whether the ords strictly ascend ([`Mapped::row_of`] needs it).
    pub(crate) fn ascending(&self) -> bool {
        // Once per file and process (a reopen after a commit shares the
        // file), in one read of the ords: a million-span index has about
        // three million.
        self.file.sorted(|| {
            let Some(bytes) = self.file.get(8..8 + 4 * self.n) else {
                return false;
            };
            let ords = bytes
                .chunks_exact(4)
                .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
            ords.clone().zip(ords.skip(1)).all(|(a, b)| a < b)
        })
    }

    /// Vector dimension.
    pub(crate) fn dim(&self) -> usize {
        self.dim
    }

    /// Rows.
    pub(crate) fn len(&self) -> usize {
        self.n
    }

    /// The ord of row `i` (`i` < `len`).
    pub(crate) fn ord(&self, i: usize) -> u32 {
        let at = 8 + 4 * i;
        self.file
            .get(at..at + 4)
            .map_or(u32::MAX, |w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
    }

    /// The first ord, if any row.
    pub(crate) fn first_ord(&self) -> Option<u32> {
        (self.n > 0).then(|| self.ord(0))
    }

    /// The row of `ord`, by binary search.
    pub(crate) fn row_of(&self, ord: u32) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.ord(mid).cmp(&ord) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Row `i`, read in place: empty if out of range, if `T` is not the
    /// file's element width, or if its bytes are damaged (which the file
    /// then reports, [`Checked::damage`]).
    pub(crate) fn row<T: Element>(&self, i: usize) -> &[T] {
        self.try_row(i).unwrap_or(&[])
    }

    /// Row `i`, read in place; an error if its bytes are damaged.
    pub(crate) fn try_row<T: Element>(&self, i: usize) -> Result<&[T], IndexError> {
        if std::mem::size_of::<T>() != self.width || i >= self.n {
            return Ok(&[]);
        }
        let size = self.dim * self.width;
        let at = 8 + 4 * self.n + i * size;
        let bytes = self.file.read(at..at + size)?;
        // Safety: `Element` types are plain values every bit pattern of
        // which is one; a misaligned head (never, for rows of a page-aligned
        // map) is refused rather than misread.
        let (head, row, tail) = unsafe { bytes.align_to::<T>() };
        if head.is_empty() && tail.is_empty() {
            Ok(row)
        } else {
            Ok(&[])
        }
    }
}

/// An element type stored files hold, read in place: little-endian, and
/// every bit pattern a value (the files are written little-endian, so a
/// big-endian build would need a decoding path).
#[cfg(target_endian = "little")]
pub(crate) trait Element: Copy {}

#[cfg(target_endian = "little")]
impl Element for f32 {}

#[cfg(target_endian = "little")]
impl Element for half::f16 {}
