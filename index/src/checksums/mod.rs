//! Checksums of a generation's files, checked block by block on first read.
//!
//! tantivy, postcard and our own table readers trust their input, so no
//! byte may reach them before it is known to be the byte that was written.
//! Hashing every file when an index opens did that at a cost that grows
//! with the corpus (1.4 s for a million spans with vectors); instead each
//! file is cut into [`BLOCK`]-byte blocks whose CRC32s are written beside
//! it when it is committed (`sums/<path>.crc`, a sidecar), and a block is
//! checked the first time anything reads it, as RocksDB and LevelDB check
//! theirs. Opening an index reads the manifest and the sidecars (0.02 % of
//! the data), checks each file's length and each sidecar's blake3 against
//! the manifest, and maps the files; a query checks the blocks it touches,
//! once per process. [`crate::Index::verify`] checks every block.
//!
//! A damaged block read through a call that can fail is that call's error;
//! one read through a lookup that answers `None` reads as absent and marks
//! the file damaged, and [`crate::Index::damage`] turns that into the
//! request's error, so no answer is ever built on unchecked bytes.

mod checked;
mod directory;
mod files;
mod write;

pub(crate) use checked::Checked;
pub(crate) use directory::CheckedDirectory;
pub(crate) use files::GenerationFiles;
pub(crate) use write::compute;

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Bytes per checked block: one CRC32 per 16 KiB, small enough that a
/// query's random reads (a vector here, a span record there) check little
/// beyond what they read, large enough that the sidecars stay tiny.
pub(crate) const BLOCK: usize = 16 * 1024;

/// What the manifest records of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    /// Its length in bytes.
    pub bytes: u64,
    /// blake3 of its sidecar of block CRCs.
    pub sums: String,
}

/// The sidecar of file `rel` (a path relative to the generation folder).
pub(crate) fn sidecar(generation_dir: &Path, rel: &str) -> PathBuf {
    generation_dir.join(SUMS_DIR).join(format!("{rel}.crc"))
}

/// The folder of a generation's sidecars.
pub(crate) const SUMS_DIR: &str = "sums";

/// The CRC32 of each [`BLOCK`] of `bytes`, as the sidecar stores them.
pub(crate) fn block_sums(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len().div_ceil(BLOCK) * 4);
    for block in bytes.chunks(BLOCK) {
        out.extend_from_slice(&crc32fast::hash(block).to_le_bytes());
    }
    out
}
