//! A file of a generation, mapped and read through its block checksums.

use super::{sidecar, FileSum, BLOCK};
use crate::error::{IndexError, IoContext};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// A mapped file whose blocks are checked against their CRCs the first
/// time they are read. Shared: every generation that hard-links the same
/// file (a reader reopening after a commit) reads it through one
/// `Checked`, so a block is checked once per process, not per generation.
pub(crate) struct Checked {
    path: PathBuf,
    map: Option<memmap2::Mmap>,
    /// The sidecar: one little-endian CRC32 per block; `None` for a file
    /// this process wrote and has not summed yet ([`Checked::fresh`]).
    sums: Option<Vec<u8>>,
    /// One bit per block already checked.
    checked: Vec<AtomicU64>,
    /// The first damage found, kept so that lookups that read damage as
    /// absent still fail the request that made them.
    damaged: OnceLock<String>,
    /// Whether the keys a reader found in the file ascend: a fact of its
    /// (immutable) content, so found once per process, not per reopen.
    sorted: OnceLock<bool>,
}

/// Files open in this process, by (device, inode). A live entry holds its
/// file mapped, so the inode cannot be reused while it is here.
static OPEN: Mutex<BTreeMap<(u64, u64), Weak<Checked>>> = Mutex::new(BTreeMap::new());

fn corrupt(path: &Path, detail: impl Into<String>) -> IndexError {
    IndexError::Corrupt {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

impl Checked {
    /// Opens file `rel` of generation folder `dir`, as the manifest
    /// records it (`expected`; `None` when it does not list the file).
    /// Checks the length and the sidecar; reads none of the data.
    pub(crate) fn open(
        dir: &Path,
        rel: &str,
        expected: Option<&FileSum>,
    ) -> Result<Arc<Checked>, IndexError> {
        Checked::open_with_sums(&dir.join(rel), &sidecar(dir, rel), expected)
    }

    /// Opens `path` with its sidecar at `sums_path`.
    pub(crate) fn open_with_sums(
        path: &Path,
        sums_path: &Path,
        expected: Option<&FileSum>,
    ) -> Result<Arc<Checked>, IndexError> {
        use std::os::unix::fs::MetadataExt;
        let expected =
            expected.ok_or_else(|| corrupt(path, "the manifest lists no checksums for it"))?;
        let file = std::fs::File::open(path)
            .map_err(|e| corrupt(path, format!("a file of the index cannot be opened: {e}")))?;
        let meta = file.metadata().io("reading", path)?;
        if meta.len() != expected.bytes {
            return Err(corrupt(
                path,
                format!(
                    "{} bytes, the manifest says {}: the file was damaged or changed after \
                     the index was written (rebuild the index)",
                    meta.len(),
                    expected.bytes
                ),
            ));
        }
        let key = (meta.dev(), meta.ino());
        let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = open.get(&key).and_then(Weak::upgrade) {
            return Ok(found);
        }
        open.retain(|_, f| f.strong_count() > 0);
        let sums = std::fs::read(sums_path)
            .map_err(|e| corrupt(sums_path, format!("checksums missing or unreadable: {e}")))?;
        let blocks = (expected.bytes as usize).div_ceil(BLOCK);
        if blake3::hash(&sums).to_hex().as_str() != expected.sums || sums.len() != 4 * blocks {
            return Err(corrupt(
                sums_path,
                "checksums do not match the manifest (rebuild the index)",
            ));
        }
        let map = match expected.bytes {
            0 => None,
            // Safety: an index's files are written once and never modified.
            _ => Some(unsafe { memmap2::Mmap::map(&file) }.io("mapping", path)?),
        };
        let checked = Arc::new(Checked {
            path: path.to_path_buf(),
            map,
            sums: Some(sums),
            checked: (0..blocks.div_ceil(64))
                .map(|_| AtomicU64::new(0))
                .collect(),
            damaged: OnceLock::new(),
            sorted: OnceLock::new(),
        });
        open.insert(key, Arc::downgrade(&checked));
        Ok(checked)
    }

    /// A file this process has just written (a vector file a graph is
    /// being built over, before the commit sums it), read as written.
    /// Never shared: a reader of the same file opens it checked.
    pub(crate) fn fresh(path: &Path) -> Result<Arc<Checked>, IndexError> {
        let file = std::fs::File::open(path).io("opening", path)?;
        let len = file.metadata().io("reading", path)?.len();
        let map = match len {
            0 => None,
            // Safety: an index's files are written once and never modified.
            _ => Some(unsafe { memmap2::Mmap::map(&file) }.io("mapping", path)?),
        };
        Ok(Arc::new(Checked {
            path: path.to_path_buf(),
            map,
            sums: None,
            checked: Vec::new(),
            damaged: OnceLock::new(),
            sorted: OnceLock::new(),
        }))
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Its length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.map.as_ref().map_or(0, |m| m.len())
    }

    /// The bytes of `range`, once every block they lie in is checked.
    pub(crate) fn read(&self, range: Range<usize>) -> Result<&[u8], IndexError> {
        let bytes: &[u8] = self.map.as_deref().unwrap_or(&[]);
        let Some(out) = bytes.get(range.clone()) else {
            return Err(corrupt(
                &self.path,
                format!(
                    "a read of bytes {}..{} past its end ({})",
                    range.start,
                    range.end,
                    bytes.len()
                ),
            ));
        };
        if !out.is_empty() {
            for block in range.start / BLOCK..=(range.end - 1) / BLOCK {
                self.check(bytes, block)?;
            }
        }
        Ok(out)
    }

    /// [`Checked::read`] for lookups that answer `None` on damage (which
    /// stays recorded for [`Checked::damage`]) and out of bounds.
    pub(crate) fn get(&self, range: Range<usize>) -> Option<&[u8]> {
        self.read(range).ok()
    }

    /// The whole file, checked.
    pub(crate) fn read_all(&self) -> Result<&[u8], IndexError> {
        self.read(0..self.len())
    }

    /// Whether the file's keys ascend, `check` finding it the first time.
    pub(crate) fn sorted(&self, check: impl FnOnce() -> bool) -> bool {
        *self.sorted.get_or_init(check)
    }

    /// The damage a read found, if any.
    pub(crate) fn damage(&self) -> Option<IndexError> {
        self.damaged.get().map(|d| corrupt(&self.path, d.clone()))
    }

    fn check(&self, bytes: &[u8], block: usize) -> Result<(), IndexError> {
        let Some(sums) = &self.sums else {
            return Ok(());
        };
        let (word, bit) = (block / 64, 1u64 << (block % 64));
        let Some(flags) = self.checked.get(word) else {
            return Err(corrupt(&self.path, "a block past the checksums"));
        };
        if flags.load(Ordering::Acquire) & bit != 0 {
            return Ok(());
        }
        let data = &bytes[block * BLOCK..((block + 1) * BLOCK).min(bytes.len())];
        let want = sums
            .get(4 * block..4 * block + 4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        if want == Some(crc32fast::hash(data)) {
            flags.fetch_or(bit, Ordering::AcqRel);
            return Ok(());
        }
        let detail = format!(
            "checksum mismatch in bytes {}..{}: the file was damaged or changed after the \
             index was written (rebuild the index)",
            block * BLOCK,
            block * BLOCK + data.len()
        );
        let _ = self.damaged.set(detail.clone());
        Err(corrupt(&self.path, detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksums::compute;

    #[test]
    fn blocks_are_checked_when_read_and_damage_is_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..5 * BLOCK + 100).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.path().join("f.bin"), &data).unwrap();
        std::fs::write(dir.path().join("empty"), b"").unwrap();
        let sums = compute(dir.path(), "manifest.json", None).unwrap();
        let f = Checked::open(dir.path(), "f.bin", sums.get("f.bin")).unwrap();
        assert_eq!(f.read(10..20).unwrap(), &data[10..20]);
        assert_eq!(f.read_all().unwrap(), &data[..]);
        assert!(f.read(0..data.len() + 1).is_err());
        let e = Checked::open(dir.path(), "empty", sums.get("empty")).unwrap();
        assert_eq!(e.read_all().unwrap(), b"");
        drop((f, e));

        // A flipped byte in block 3: blocks before it read, it does not,
        // and the file remembers.
        let mut bad = data.clone();
        bad[3 * BLOCK + 7] ^= 1;
        std::fs::remove_file(dir.path().join("f.bin")).unwrap();
        std::fs::write(dir.path().join("f.bin"), &bad).unwrap();
        let f = Checked::open(dir.path(), "f.bin", sums.get("f.bin")).unwrap();
        assert!(f.read(0..BLOCK).is_ok());
        assert!(f.damage().is_none());
        assert!(f.get(3 * BLOCK..3 * BLOCK + 1).is_none());
        assert!(f.read(2 * BLOCK..4 * BLOCK).is_err());
        assert!(f
            .damage()
            .unwrap()
            .to_string()
            .contains("checksum mismatch"));

        // A file of another length, or without its manifest entry, does not open.
        std::fs::write(dir.path().join("f.bin"), &data[1..]).unwrap();
        drop(f);
        assert!(Checked::open(dir.path(), "f.bin", sums.get("f.bin")).is_err());
        assert!(Checked::open(dir.path(), "f.bin", None).is_err());
    }
}
