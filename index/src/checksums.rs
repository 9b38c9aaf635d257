//! Checksums of a generation's files: blake3 of every file, recorded in
//! the manifest when the generation is written and checked when it is
//! opened, before any file reaches a parser. tantivy, postcard and hnsw_rs
//! trust their input (a few flipped bytes in an HNSW graph file made
//! hnsw_rs abort on a multi-terabyte allocation), so a damaged file must be
//! an error here, not there.

use crate::error::{IndexError, IoContext};
use std::collections::BTreeMap;
use std::path::Path;

/// Lock files that tantivy creates and removes as it pleases; they hold nothing.
fn is_lock(name: &str) -> bool {
    name.ends_with(".lock")
}

/// blake3 of every file under `dir` but `skip` (relative path → hex).
/// A file that is a hard link of the same name in `previous` (a generation
/// folder and its checksums) takes that checksum: the file is the same
/// inode, written once, and a commit hashes only what it wrote.
pub(crate) fn compute(
    dir: &Path,
    skip: &str,
    previous: Option<(&Path, &BTreeMap<String, String>)>,
) -> Result<BTreeMap<String, String>, IndexError> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).io("listing", &d)? {
            let entry = entry.io("listing", &d)?;
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let Ok(rel) = path.strip_prefix(dir) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            if rel == skip || is_lock(&rel) {
                continue;
            }
            let carried = previous.and_then(|(prev_dir, sums)| {
                let sum = sums.get(&rel)?;
                same_file(&path, &prev_dir.join(&rel)).then(|| sum.clone())
            });
            let sum = match carried {
                Some(sum) => sum,
                None => hash_file(&path)?,
            };
            out.insert(rel, sum);
        }
    }
    Ok(out)
}

/// Checks every file `expected` lists under `dir`.
pub(crate) fn verify(dir: &Path, expected: &BTreeMap<String, String>) -> Result<(), IndexError> {
    for (rel, want) in expected {
        let path = dir.join(rel);
        let found = hash_file(&path).map_err(|_| IndexError::Corrupt {
            path: path.clone(),
            detail: "a file of the index is missing or unreadable".into(),
        })?;
        if &found != want {
            return Err(IndexError::Corrupt {
                path,
                detail: "checksum mismatch: the file was damaged or changed after the index \
                         was written (rebuild the index)"
                    .into(),
            });
        }
    }
    Ok(())
}

/// Whether two paths name one file (a hard link).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn hash_file(path: &Path) -> Result<String, IndexError> {
    let mut file = std::fs::File::open(path).io("reading", path)?;
    let mut h = blake3::Hasher::new();
    let len = file.metadata().io("reading", path)?.len();
    if len < 1 << 20 {
        std::io::copy(&mut file, &mut h).io("reading", path)?;
    } else {
        // Large files (the store segment, the vectors) are mapped and hashed
        // on every core: opening a million-span index hashes ~0.7 GB.
        // Safety: the index's files are written once and never modified.
        let map = unsafe { memmap2::Mmap::map(&file) }.io("mapping", path)?;
        h.update_rayon(&map);
    }
    Ok(h.finalize().to_hex().to_string())
}
