//! Opening a committed index for reading.

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

    /// Opens the generation the writer itself just committed, without
    /// hashing its files again: it wrote the new ones, and the ones it
    /// linked were verified when it opened the generation before. Keeps a
    /// commit's cost that of the change.
    pub(crate) fn open_committed(index_dir: &Path) -> Result<Index, IndexError> {
        let (_, dir) = generation::current(index_dir)?
            .ok_or_else(|| IndexError::NotFound(index_dir.to_path_buf()))?;
        Index::open_files(index_dir, &dir, Manifest::read(&dir.join(MANIFEST_FILE))?)
    }

    fn open_generation(index_dir: &Path, dir: &Path) -> Result<Index, IndexError> {
        let manifest = Manifest::read(&dir.join(MANIFEST_FILE))?;
        crate::checksums::verify(dir, &manifest.checksums)?;
        Index::open_files(index_dir, dir, manifest)
    }

    fn open_files(index_dir: &Path, dir: &Path, manifest: Manifest) -> Result<Index, IndexError> {
        let store = SpanStore::open(dir)?;
        let text = TextIndex::open(&dir.join(TANTIVY_DIR))?;
        let tombstones = (store.dead_spans() > 0).then(|| store.live().clone());
        let vectors = match &manifest.embedding {
            Some(_) => Some(VectorIndex::open(
                dir,
                &manifest.vector_files,
                &manifest.graphs,
                tombstones,
            )?),
            None => None,
        };
        let units = match manifest.unit_files.is_empty() {
            true => None,
            false => Some(UnitVectors::read(dir, &manifest.unit_files)?),
        };
        Ok(Index {
            dir: index_dir.to_path_buf(),
            generation_dir: dir.to_path_buf(),
            manifest,
            store,
            text,
            vectors,
            units,
        })
    }

    /// The index folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The generation's own folder.
    pub(crate) fn generation_dir(&self) -> &Path {
        &self.generation_dir
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
