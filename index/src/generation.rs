//! Atomic commits. An index folder holds numbered generation folders and a
//! `CURRENT` file naming the committed one. A new generation is written in
//! full under a temporary name, synced, renamed, and only then does
//! `CURRENT` switch to it (write a temporary file, sync, rename, sync the
//! folder). A `kill -9` at any moment leaves `CURRENT` naming a complete
//! generation; leftovers are swept by the next commit.

use crate::error::{IndexError, IoContext};
use std::fs;
use std::path::{Path, PathBuf};

const CURRENT: &str = "CURRENT";
const PREFIX: &str = "gen-";

/// The path of file `name` that a generation's tables name (segments,
/// vector files): a plain file name, never a path out of the folder.
pub(crate) fn file_in(dir: &Path, name: &str) -> Result<PathBuf, IndexError> {
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(IndexError::Corrupt {
            path: dir.to_path_buf(),
            detail: format!("bad file name {name:?} in the generation's tables"),
        });
    }
    Ok(dir.join(name))
}

/// The committed generation folder and its number, if any.
pub(crate) fn current(index_dir: &Path) -> Result<Option<(u64, PathBuf)>, IndexError> {
    let path = index_dir.join(CURRENT);
    let name = match fs::read_to_string(&path) {
        Ok(s) => s.trim().to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).io("reading", &path),
    };
    let number = name
        .strip_prefix(PREFIX)
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| IndexError::Corrupt {
            path: path.clone(),
            detail: format!("unexpected generation name {name:?}"),
        })?;
    Ok(Some((number, index_dir.join(name))))
}

/// A generation being written; it becomes visible only on [`Staged::commit`].
pub(crate) struct Staged {
    index_dir: PathBuf,
    number: u64,
    tmp: PathBuf,
}

impl Staged {
    /// Starts generation `number` in a fresh temporary folder.
    pub(crate) fn begin(index_dir: &Path, number: u64) -> Result<Staged, IndexError> {
        fs::create_dir_all(index_dir).io("creating", index_dir)?;
        let tmp = index_dir.join(format!("{PREFIX}{number:06}.tmp-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).io("removing", &tmp)?;
        }
        fs::create_dir_all(&tmp).io("creating", &tmp)?;
        Ok(Staged {
            index_dir: index_dir.to_path_buf(),
            number,
            tmp,
        })
    }

    /// The folder to write the generation's files into.
    pub(crate) fn dir(&self) -> &Path {
        &self.tmp
    }

    /// Makes the generation durable and current. The older ones are the
    /// caller's to remove ([`sweep_older`]), after it has answered.
    pub(crate) fn commit(self) -> Result<PathBuf, IndexError> {
        sync_tree(&self.tmp)?;
        let name = format!("{PREFIX}{:06}", self.number);
        let final_dir = self.index_dir.join(&name);
        if final_dir.exists() {
            fs::remove_dir_all(&final_dir).io("removing", &final_dir)?;
        }
        fs::rename(&self.tmp, &final_dir).io("renaming", &self.tmp)?;
        sync_dir(&self.index_dir)?;
        let cur_tmp = self.index_dir.join(format!("{CURRENT}.tmp"));
        fs::write(&cur_tmp, format!("{name}\n")).io("writing", &cur_tmp)?;
        fs::File::open(&cur_tmp)
            .and_then(|f| f.sync_all())
            .io("syncing", &cur_tmp)?;
        fs::rename(&cur_tmp, self.index_dir.join(CURRENT)).io("renaming", &cur_tmp)?;
        sync_dir(&self.index_dir)?;
        Ok(final_dir)
    }
}

/// Removes what killed runs left behind (temporary and superseded
/// generations), keeping the committed one: a run that has nothing to
/// commit still leaves the folder clean.
pub(crate) fn sweep_leftovers(index_dir: &Path) -> Result<(), IndexError> {
    if let Some((_, dir)) = current(index_dir)? {
        if let Some(name) = dir.file_name().and_then(|n| n.to_str()) {
            sweep(index_dir, name);
        }
    }
    Ok(())
}

/// Removes the committed generations numbered below `current` (never a
/// folder being written, nor a newer one). Best effort, as [`sweep`].
pub(crate) fn sweep_older(index_dir: &Path, current: u64) {
    let Ok(entries) = fs::read_dir(index_dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let number = name
            .strip_prefix(PREFIX)
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u64>().ok());
        if number.is_some_and(|n| n < current) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// Removes every generation folder but `keep`. Best effort: a leftover only costs disk.
fn sweep(index_dir: &Path, keep: &str) {
    let Ok(entries) = fs::read_dir(index_dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with(PREFIX) && name != keep {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// Syncs what a commit wrote: every file it created and every folder
/// (their new entries). A file with more than one link is a hard link of
/// the previous generation's, synced when that commit wrote it; syncing it
/// again would make a one-file commit cost one sync per file of the index.
fn sync_tree(dir: &Path) -> Result<(), IndexError> {
    use std::os::unix::fs::MetadataExt;
    for e in fs::read_dir(dir).io("listing", dir)? {
        let e = e.io("listing", dir)?;
        let path = e.path();
        let meta = e.metadata().io("reading", &path)?;
        if meta.is_dir() {
            sync_tree(&path)?;
        } else if meta.nlink() == 1 {
            fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .io("syncing", &path)?;
        }
    }
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), IndexError> {
    fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .io("syncing", dir)
}
