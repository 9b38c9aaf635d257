//! Writing a generation's checksums at commit: a sidecar of block CRCs
//! for every file, and what the manifest records of each.

use super::{block_sums, sidecar, FileSum, SUMS_DIR};
use crate::error::{IndexError, IoContext};
use std::collections::BTreeMap;
use std::path::Path;

/// Lock files that tantivy creates and removes as it pleases; they hold nothing.
fn is_lock(name: &str) -> bool {
    name.ends_with(".lock")
}

/// The checksums of every file under `dir` but `skip` (relative path →
/// what the manifest records), writing each file's sidecar. A file that
/// is a hard link of the same name in `previous` (a generation folder and
/// its checksums) takes that one's sidecar by a hard link too: the file
/// was written once and never changed, so a commit sums only what it wrote.
pub(crate) fn compute(
    dir: &Path,
    skip: &str,
    previous: Option<(&Path, &BTreeMap<String, FileSum>)>,
) -> Result<BTreeMap<String, FileSum>, IndexError> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).io("listing", &d)? {
            let entry = entry.io("listing", &d)?;
            let path = entry.path();
            let Ok(rel) = path.strip_prefix(dir) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            if path.is_dir() {
                if rel != SUMS_DIR {
                    pending.push(path);
                }
                continue;
            }
            if rel == skip || is_lock(&rel) {
                continue;
            }
            let target = sidecar(dir, &rel);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).io("creating", parent)?;
            }
            let carried = previous.and_then(|(prev_dir, sums)| {
                let sum = sums.get(&rel)?;
                let old = sidecar(prev_dir, &rel);
                (same_file(&path, &prev_dir.join(&rel)) && old.exists()).then_some((sum, old))
            });
            let sum = match carried {
                Some((sum, old)) => {
                    std::fs::hard_link(&old, &target).io("linking", &target)?;
                    sum.clone()
                }
                None => write_sidecar(&path, &target)?,
            };
            out.insert(rel, sum);
        }
    }
    Ok(out)
}

/// Sums `path` block by block into the sidecar `target`.
fn write_sidecar(path: &Path, target: &Path) -> Result<FileSum, IndexError> {
    let file = std::fs::File::open(path).io("reading", path)?;
    let bytes = file.metadata().io("reading", path)?.len();
    let sums = if bytes == 0 {
        Vec::new()
    } else {
        // Safety: the generation's files are written once and never modified.
        let map = unsafe { memmap2::Mmap::map(&file) }.io("mapping", path)?;
        block_sums(&map)
    };
    std::fs::write(target, &sums).io("writing", target)?;
    Ok(FileSum {
        bytes,
        sums: blake3::hash(&sums).to_hex().to_string(),
    })
}

/// Whether two paths name one file (a hard link).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}
