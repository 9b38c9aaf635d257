//! tantivy's files read through their checksums: a `Directory` that hands
//! tantivy a [`Checked`] file for every file the manifest lists, so the
//! postings, positions and stored fields a query reads are checked block by
//! block as it reads them, like the rest of the index.

use super::{sidecar, Checked, FileSum};
use std::collections::BTreeMap;
use std::ops::{Deref, Range};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback,
    WatchHandle, WritePtr,
};

/// A BM25 folder whose listed files are read checked.
///
/// A reader's folder is its generation's own `tantivy/`. A writer's is the
/// staged copy of the previous generation's: its hard links are read
/// checked against the previous manifest (so a merge never copies damage
/// into a new segment), the files tantivy writes in this session are read
/// as written.
#[derive(Clone)]
pub(crate) struct CheckedDirectory {
    inner: MmapDirectory,
    folder: PathBuf,
    /// The folder's name in a generation (`tantivy`).
    name: String,
    /// The generation whose manifest lists `sums` and holds their sidecars.
    origin: PathBuf,
    /// The generation's checksums (paths relative to `origin`).
    sums: Arc<BTreeMap<String, FileSum>>,
    /// A reader refuses files the manifest does not list; a writer reads
    /// them unchecked (it wrote them).
    writing: bool,
    /// Every file opened checked, for [`crate::Index::damage`].
    opened: Arc<Mutex<Vec<Arc<Checked>>>>,
}

impl std::fmt::Debug for CheckedDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CheckedDirectory({})", self.folder.display())
    }
}

impl CheckedDirectory {
    /// The BM25 folder `folder` (named `name` in a generation) read
    /// against generation `origin`'s checksums.
    pub(crate) fn new(
        folder: &Path,
        name: &str,
        origin: &Path,
        sums: Arc<BTreeMap<String, FileSum>>,
        writing: bool,
        opened: Arc<Mutex<Vec<Arc<Checked>>>>,
    ) -> Result<CheckedDirectory, tantivy::TantivyError> {
        let inner = MmapDirectory::open(folder).map_err(|e| {
            tantivy::TantivyError::SystemError(format!("opening {}: {e}", folder.display()))
        })?;
        Ok(CheckedDirectory {
            inner,
            folder: folder.to_path_buf(),
            name: name.to_string(),
            origin: origin.to_path_buf(),
            sums,
            writing,
            opened,
        })
    }

    /// The generation-relative name of `path` in this folder.
    fn rel(&self, path: &Path) -> String {
        format!("{}/{}", self.name, path.to_string_lossy())
    }

    /// The checked file for `path`, `None` to read it as written.
    fn checked(&self, path: &Path) -> Result<Option<Arc<Checked>>, OpenReadError> {
        let rel = self.rel(path);
        let here = self.folder.join(path);
        let expected = self.sums.get(&rel);
        if self.writing && !(expected.is_some() && same_file(&here, &self.origin.join(&rel))) {
            return Ok(None);
        }
        if !here.exists() {
            return Err(OpenReadError::FileDoesNotExist(path.to_path_buf()));
        }
        let file = Checked::open_with_sums(&here, &sidecar(&self.origin, &rel), expected)
            .map_err(|e| invalid(e, path))?;
        self.opened
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(file.clone());
        Ok(Some(file))
    }
}

fn invalid(e: crate::IndexError, path: &Path) -> OpenReadError {
    OpenReadError::wrap_io_error(
        std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
        path.to_path_buf(),
    )
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

impl Directory for CheckedDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        match self.checked(path)? {
            Some(file) => Ok(Arc::new(Handle(file))),
            None => self.inner.get_file_handle(path),
        }
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.inner.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        match self.checked(path)? {
            Some(file) => file
                .read_all()
                .map(<[u8]>::to_vec)
                .map_err(|e| invalid(e, path)),
            None => self.inner.atomic_read(path),
        }
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        self.inner.atomic_write(path, data)
    }

    fn sync_directory(&self) -> std::io::Result<()> {
        self.inner.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.inner.acquire_lock(lock)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

/// A checked file as tantivy reads it.
#[derive(Debug)]
struct Handle(Arc<Checked>);

impl std::fmt::Debug for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Checked({})", self.path().display())
    }
}

impl tantivy::HasLen for Handle {
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl FileHandle for Handle {
    fn read_bytes(&self, range: Range<usize>) -> std::io::Result<OwnedBytes> {
        self.0
            .read(range.clone())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
        Ok(OwnedBytes::new(Bytes {
            file: self.0.clone(),
            range,
        }))
    }
}

/// Checked bytes of a file, owned by tantivy for as long as it reads them.
struct Bytes {
    file: Arc<Checked>,
    range: Range<usize>,
}

impl Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // Checked when made (`Handle::read_bytes`); a checked block stays
        // checked, so this read is a bounds check and a bit test.
        self.file.get(self.range.clone()).unwrap_or(&[])
    }
}

// Safety: the bytes live in the file's mapping, which the `Arc` keeps
// alive and never moves, so the slice is the same wherever `Bytes` goes.
unsafe impl stable_deref_trait::StableDeref for Bytes {}
