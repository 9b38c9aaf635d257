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
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeMap::new();
    // Folder by folder, one `stat` and one link per carried file: a
    // one-file commit of a million-span index walks about 700 files.
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let mut sums_dir_made = false;
        for entry in std::fs::read_dir(&d).io("listing", &d)? {
            let entry = entry.io("listing", &d)?;
            let path = entry.path();
            let Ok(rel) = path.strip_prefix(dir) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            if entry.file_type().io("listing", &d)?.is_dir() {
                if rel != SUMS_DIR {
                    pending.push(path);
                }
                continue;
            }
            if rel == skip || is_lock(&rel) {
                continue;
            }
            let target = sidecar(dir, &rel);
            if !sums_dir_made {
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).io("creating", parent)?;
                }
                sums_dir_made = true;
            }
            let here = entry.metadata().io("reading", &path)?;
            let carried = previous.and_then(|(prev_dir, sums)| {
                let sum = sums.get(&rel)?;
                let there = std::fs::metadata(prev_dir.join(&rel)).ok()?;
                let same = here.dev() == there.dev() && here.ino() == there.ino();
                // The sidecar is linked too; one the previous generation
                // lacks is written afresh.
                (same && std::fs::hard_link(sidecar(prev_dir, &rel), &target).is_ok())
                    .then_some(sum)
            });
            let sum = match carried {
                Some(sum) => sum.clone(),
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
