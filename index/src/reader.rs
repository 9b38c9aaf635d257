//! Opening a committed index for reading.

use crate::checksums::GenerationFiles;
use crate::embed::Embedder;
use crate::error::IndexError;
use crate::filter::Allowed;
use crate::generation;
use crate::manifest::Manifest;
use crate::store::SpanStore;
use crate::text_index::TextIndex;
use crate::units::UnitVectors;
use crate::vectors::VectorIndex;
use std::path::{Path, PathBuf};

pub(crate) const MANIFEST_FILE: &str = "manifest.json";
pub(crate) const TANTIVY_DIR: &str = "tantivy";

/// A committed index generation, open for reading. Immutable: a later
/// commit writes a new generation, and readers reopen to see it.
pub struct Index {
    dir: PathBuf,
    generation_dir: PathBuf,
    manifest: Manifest,
    files: GenerationFiles,
    store: SpanStore,
    text: TextIndex,
    vectors: Option<VectorIndex>,
    units: Option<UnitVectors>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("dir", &self.dir)
            .field("manifest", &self.manifest)
            .finish_non_exhaustive()
    }
}

impl Index {
    /// Opens the committed generation in `index_dir`.
    pub fn open(index_dir: &Path) -> Result<Index, IndexError> {
        let mut attempts = 0;
        loop {
            let (number, dir) = generation::current(index_dir)?
                .ok_or_else(|| IndexError::NotFound(index_dir.to_path_buf()))?;
            match Index::open_generation(index_dir, &dir) {
                Ok(index) => return Ok(index),
                Err(e) => {
                    // A writer may have committed a newer generation and
                    // swept this one while we read it: read the new one.
                    attempts += 1;
                    let moved = generation::current(index_dir)?.is_some_and(|(n, _)| n != number);
                    if !moved || attempts >= 3 {
                        return Err(e);
                    }
                }
            }
        }
    }

    fn open_generation(index_dir: &Path, dir: &Path) -> Result<Index, IndexError> {
        let manifest = Manifest::read(&dir.join(MANIFEST_FILE))?;
        let files = GenerationFiles::new(dir, manifest.checksums.clone());
        let store = SpanStore::open(&files)?;
        let tantivy = dir.join(TANTIVY_DIR);
        let text = TextIndex::open(
            &tantivy,
            files.text_directory(&tantivy, TANTIVY_DIR, false)?,
        )?;
        let tombstones = (store.dead_spans() > 0).then(|| store.live().clone());
        let vectors = match &manifest.embedding {
            Some(_) => Some(VectorIndex::open(
                &files,
                &manifest.vector_files,
                &manifest.graphs,
                tombstones,
            )?),
            None => None,
        };
        let units = match manifest.unit_files.is_empty() {
            true => None,
            false => Some(UnitVectors::read(&files, &manifest.unit_files)?),
        };
        Ok(Index {
            dir: index_dir.to_path_buf(),
            generation_dir: dir.to_path_buf(),
            manifest,
            files,
            store,
            text,
            vectors,
            units,
        })
    }

    /// Reads every block of every file of the generation against its
    /// checksum (opening and queries check only what they read): the
    /// whole-index check, for `bubble index --verify` and for tests.
    pub fn verify(&self) -> Result<(), IndexError> {
        self.files.verify_all()
    }

    /// The damage any read of this generation found, as an error: a
    /// lookup that met a damaged block answered "absent", so a request
    /// that made one must fail instead of answering from what is left.
    /// Retrieval and assembly ask at the end of every request.
    pub fn damage(&self) -> Result<(), IndexError> {
        match self.files.damage() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The index folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The generation's own folder.
    pub(crate) fn generation_dir(&self) -> &Path {
        &self.generation_dir
    }

    /// The generation's files, opened checked.
    pub(crate) fn files(&self) -> &GenerationFiles {
        &self.files
    }

    /// What this generation holds.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Documents and spans.
    pub fn store(&self) -> &SpanStore {
        &self.store
    }

    /// The BM25 index.
    pub fn text(&self) -> &TextIndex {
        &self.text
    }

    /// The vector index, if the index was embedded.
    pub fn vectors(&self) -> Option<&VectorIndex> {
        self.vectors.as_ref()
    }

    /// The unit vectors compression reads, if the index has them.
    pub fn unit_vectors(&self) -> Option<&UnitVectors> {
        self.units.as_ref()
    }

    /// BM25 top `k`, as `(ord, score)`.
    pub fn bm25(
        &self,
        query: &str,
        k: usize,
        kinds: &[bubble_ingest::SpanKind],
        allowed: Option<&Allowed>,
    ) -> Result<Vec<(u32, f32)>, IndexError> {
        self.text.search(query, k, kinds, allowed)
    }

    /// Checks that `embedder` is the model the index was embedded with.
    pub fn check_model(&self, embedder: &Embedder) -> Result<(), IndexError> {
        match &self.manifest.embedding {
            None => Err(IndexError::NoVectors(format!(
                "index at {} was built without an embedding model",
                self.dir.display()
            ))),
            Some(e) if e.model != embedder.id() => Err(IndexError::ModelMismatch {
                indexed: e.model.clone(),
                loaded: embedder.id().to_string(),
            }),
            Some(_) => Ok(()),
        }
    }
}
