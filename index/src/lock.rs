//! One writer per index: an advisory lock on `<index>/writer.lock`, held
//! for as long as a build runs. A second writer fails at once with an error
//! naming the holder (its process id and start time, written into the lock
//! file). Readers take no lock: they read whichever generation `CURRENT`
//! names, which a writer replaces only by an atomic rename. The lock is the
//! operating system's, so a writer killed with `kill -9` releases it.

use crate::error::{IndexError, IoContext};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

/// The lock file inside an index folder.
pub const LOCK_FILE: &str = "writer.lock";

/// The held writer lock; dropping it releases the lock.
#[derive(Debug)]
pub struct WriterLock {
    file: File,
}

impl WriterLock {
    /// Takes the writer lock of `index_dir` (creating the folder), or
    /// fails with [`IndexError::Locked`] if another writer holds it.
    pub fn acquire(index_dir: &Path) -> Result<WriterLock, IndexError> {
        std::fs::create_dir_all(index_dir).io("creating", index_dir)?;
        let path = index_dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .io("opening", &path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(IndexError::Locked {
                    path,
                    holder: holder.trim().to_string(),
                });
            }
            Err(TryLockError::Error(e)) => {
                return Err(IndexError::Io {
                    action: "locking",
                    path,
                    source: e,
                })
            }
        }
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let holder = format!("process {} (since unix time {since})", std::process::id());
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(holder.as_bytes()))
            .io("writing", &path)?;
        Ok(WriterLock { file })
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}
