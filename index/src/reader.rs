//! Opening a committed index for reading.

use crate::checksums::GenerationFiles;
use crate::corpus::{Corpus, Restriction, SpanFilter};
use crate::error::IndexError;
use crate::filter::Allowed;
use crate::generation;
use crate::manifest::Manifest;
use crate::store::{DocEntry, SpanSource, SpanStore};
use crate::text_index::TextIndex;
use crate::units::UnitVectors;
use crate::vectors::VectorIndex;
use bubble_ingest::{Span, SpanKind};
use std::borrow::Cow;
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
}

impl SpanSource for Index {
    fn span_at(&self, ord: u32) -> Option<Cow<'_, Span>> {
        self.store.span(ord).map(Cow::Owned)
    }
}

/// The embedded index behind the storage seam.
impl Corpus for Index {
    fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    fn span(&self, ord: u32) -> Option<Span> {
        self.store.span(ord)
    }

    fn kind(&self, ord: u32) -> Option<SpanKind> {
        self.store.kind(ord)
    }

    fn ord_of(&self, id: &str) -> Option<u32> {
        self.store.ord_of(id)
    }

    fn doc_of(&self, ord: u32) -> Option<DocEntry> {
        self.store.doc_of(ord)
    }

    fn restrict(&self, filter: &SpanFilter) -> Result<Restriction, IndexError> {
        if filter.is_empty() {
            return Ok(Restriction::default());
        }
        let globs = filter.globs()?;
        let store = &self.store;
        // Globs are matched once per file (a document's source is its
        // file's path), kinds read from the store's kind table.
        let mut span_ok = vec![false; store.ord_limit() as usize];
        let kind_ok = |ord: u32| {
            filter.kinds.is_empty() || store.kind(ord).is_some_and(|k| filter.kinds.contains(&k))
        };
        for file in store.files() {
            if !filter.paths.is_empty() && !globs.is_match(&file.path) {
                continue;
            }
            for doc in file.docs.clone().filter_map(|n| store.doc(n)) {
                for ord in doc.spans {
                    if let Some(ok) = span_ok.get_mut(ord as usize) {
                        *ok = kind_ok(ord);
                    }
                }
            }
        }
        Ok(Restriction {
            filter: filter.clone(),
            allowed: Some(Allowed::from_vec(span_ok)),
            files: None,
        })
    }

    fn bm25(
        &self,
        query: &str,
        k: usize,
        restriction: &Restriction,
    ) -> Result<Vec<(u32, f32)>, IndexError> {
        // Kinds are a clause of the BM25 query; paths need the bitmap.
        let by_path = restriction
            .allowed
            .as_ref()
            .filter(|_| !restriction.filter.paths.is_empty());
        self.text
            .search(query, k, &restriction.filter.kinds, by_path)
    }

    fn has_vectors(&self) -> bool {
        self.vectors.is_some()
    }

    fn dense(
        &self,
        query: &[f32],
        k: usize,
        ef: usize,
        restriction: &Restriction,
    ) -> Result<Vec<(u32, f32)>, IndexError> {
        match &self.vectors {
            Some(v) => v.search(query, k, ef, restriction.allowed.as_ref()),
            None => Err(IndexError::NoVectors(format!(
                "index at {} was built without an embedding model",
                self.dir.display()
            ))),
        }
    }

    fn vector(&self, ord: u32) -> Option<Cow<'_, [f32]>> {
        let v = self.vectors.as_ref()?.vector(ord)?;
        // An empty row is a damaged one (recorded for `damage`).
        (!v.is_empty()).then_some(Cow::Borrowed(v))
    }

    fn has_unit_vectors(&self) -> bool {
        self.units.is_some()
    }

    fn unit_vector(&self, ord: u32, out: &mut Vec<f32>) -> bool {
        self.units.as_ref().is_some_and(|u| u.extend_f32(ord, out))
    }

    fn files_page(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<(String, String)>), IndexError> {
        let files = self.store.files();
        let page = files
            .iter()
            .skip(offset)
            .take(limit)
            .map(|f| (f.path.clone(), f.content_hash.clone()))
            .collect();
        Ok((files.len(), page))
    }

    fn file(&self, path: &str) -> Result<Option<(String, Vec<DocEntry>)>, IndexError> {
        let files = self.store.files();
        let Ok(i) = files.binary_search_by(|f| f.path.as_str().cmp(path)) else {
            return Ok(None);
        };
        let file = &files[i];
        let docs = file
            .docs
            .clone()
            .filter_map(|n| self.store.doc(n))
            .collect();
        Ok(Some((file.content_hash.clone(), docs)))
    }

    /// The damage any read of this generation found: a lookup that met a
    /// damaged block answered "absent", so a request that made one must
    /// fail instead of answering from what is left.
    fn damage(&self) -> Result<(), IndexError> {
        match self.files.damage() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
