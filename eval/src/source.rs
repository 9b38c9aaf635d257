//! Where an evaluation's corpus is held: an index in the work folder, or a
//! PostgreSQL database (`--store`), so that both stores are measured on
//! the same questions by the same code.

use crate::retrieval::{corpus_index, indexing_stats, IndexingStats};
use crate::EvalError;
use bubble_index::{index_files, BuildOptions, Corpus, Embedder, Index, Progress};
use std::path::Path;

/// An evaluation's corpus.
pub enum Source {
    /// An index folder's generation.
    Embedded(Box<Index>),
    /// A database store.
    Postgres(bubble_postgres::Store),
}

impl Source {
    /// Runs `f` over the corpus: the index, or a fresh snapshot of the
    /// database for each call (as a server answers each request from its
    /// own, so latencies include opening it).
    pub fn with<T>(
        &self,
        f: impl FnOnce(&dyn Corpus) -> Result<T, EvalError>,
    ) -> Result<T, EvalError> {
        match self {
            Source::Embedded(index) => f(index.as_ref()),
            Source::Postgres(store) => f(&store.reader()?),
        }
    }
}

/// Writes a benchmark's corpus (`write` gets the path) into `work_dir` and
/// indexes it into the index folder there, or with `store` into that
/// database; an unchanged corpus is not indexed again.
pub(crate) fn corpus_source(
    work_dir: &Path,
    write: impl FnOnce(&Path) -> Result<(), EvalError>,
    embedder: Option<&Embedder>,
    store: Option<&str>,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Source, IndexingStats), EvalError> {
    let Some(url) = store else {
        let (index, stats) = corpus_index(work_dir, write, embedder, progress)?;
        return Ok((Source::Embedded(Box::new(index)), stats));
    };
    let corpus = work_dir.join("corpus.jsonl");
    write(&corpus)?;
    let store = bubble_postgres::Store::connect(url, 4)?;
    let opts = BuildOptions {
        root: Some(work_dir.to_path_buf()),
        ..BuildOptions::default()
    };
    let pg = bubble_postgres::WriterOptions {
        root: opts.root.clone(),
        ..bubble_postgres::WriterOptions::default()
    };
    let mut writer = bubble_postgres::Writer::open(&store, &pg, embedder)?;
    let report = index_files(&mut writer, &[corpus], &opts, progress)?;
    let stats = indexing_stats(work_dir, "postgres", &report)?;
    Ok((Source::Postgres(store), stats))
}
