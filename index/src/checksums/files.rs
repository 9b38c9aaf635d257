//! The files of one generation, opened checked.

use super::{Checked, CheckedDirectory, FileSum};
use crate::error::IndexError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Opens a generation's files against its manifest's checksums, and
/// keeps every file it opened so that damage found by any read can be
/// asked for ([`GenerationFiles::damage`]).
#[derive(Clone)]
pub(crate) struct GenerationFiles {
    dir: PathBuf,
    sums: Arc<BTreeMap<String, FileSum>>,
    opened: Arc<Mutex<Vec<Arc<Checked>>>>,
}

impl GenerationFiles {
    /// The files of generation folder `dir`, whose manifest records `sums`.
    pub(crate) fn new(dir: &Path, sums: BTreeMap<String, FileSum>) -> GenerationFiles {
        GenerationFiles {
            dir: dir.to_path_buf(),
            sums: Arc::new(sums),
            opened: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The generation folder.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// File `name` of the generation's tables (a plain file name).
    pub(crate) fn open(&self, name: &str) -> Result<Arc<Checked>, IndexError> {
        crate::generation::file_in(&self.dir, name)?;
        let file = Checked::open(&self.dir, name, self.sums.get(name))?;
        self.opened().push(file.clone());
        Ok(file)
    }

    /// tantivy's folder `name`, read checked; `writing` for the staged
    /// copy a writer appends to (see [`CheckedDirectory`]).
    pub(crate) fn text_directory(
        &self,
        folder: &Path,
        name: &str,
        writing: bool,
    ) -> Result<CheckedDirectory, IndexError> {
        Ok(CheckedDirectory::new(
            folder,
            name,
            &self.dir,
            self.sums.clone(),
            writing,
            self.opened.clone(),
        )?)
    }

    /// The first damage any read of these files found.
    pub(crate) fn damage(&self) -> Option<IndexError> {
        self.opened().iter().find_map(|f| f.damage())
    }

    /// Reads every block of every file the manifest lists.
    pub(crate) fn verify_all(&self) -> Result<(), IndexError> {
        for (rel, sum) in self.sums.iter() {
            Checked::open(&self.dir, rel, Some(sum))?.read_all()?;
        }
        Ok(())
    }

    fn opened(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Checked>>> {
        self.opened.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The files of `dir` summed as a commit would, for tests of one
    /// reader without a whole index.
    #[cfg(test)]
    pub(crate) fn summed(dir: &Path) -> GenerationFiles {
        let sums = super::compute(dir, crate::reader::MANIFEST_FILE, None).expect("sums");
        GenerationFiles::new(dir, sums)
    }
}
