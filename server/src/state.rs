//! What every request shares: the current index snapshot, the model, the
//! tokenizers, the shipped pipelines, the caches and the limits.

use crate::auth::Keys;
use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::writes::Writes;
use bubble_assembly::{Pipeline, Trace};
use bubble_index::bubble_ingest::TokenCounter;
use bubble_index::{Corpus, Embedder, Index};
use lru::LruCache;
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::Semaphore;

/// The server's shared state (behind an `Arc` in every handler).
pub struct AppState {
    pub(crate) config: Config,
    pub(crate) keys: Keys,
    /// The generation readers answer from; swapped whole after a commit,
    /// so a request keeps the snapshot it started with (an index folder).
    snapshot: RwLock<Option<Arc<Index>>>,
    /// The database whose snapshots requests answer from, one each
    /// (a PostgreSQL store, instead of an index folder).
    store: Option<bubble_postgres::Store>,
    pub(crate) embedder: Option<Arc<Embedder>>,
    pub(crate) ranker: Option<bubble_rank::Ranker>,
    counters: Mutex<HashMap<String, Arc<TokenCounter>>>,
    pub(crate) pipelines: HashMap<&'static str, Arc<Pipeline>>,
    traces: Option<Mutex<LruCache<String, Arc<Trace>>>>,
    /// Finished answers keyed by index generation and request.
    results: Option<Mutex<LruCache<ResultKey, Arc<serde_json::Value>>>>,
    /// Requests admitted (computing or waiting); past it, 503.
    pub(crate) admitted: Arc<Semaphore>,
    /// Requests computing at once.
    pub(crate) workers: Arc<Semaphore>,
    pub(crate) metrics: Metrics,
    pub(crate) writes: Writes,
    pub(crate) notices: Vec<String>,
    /// The OpenAPI document, rendered once the router is built.
    pub(crate) openapi: std::sync::OnceLock<String>,
}

/// Where the corpus lives.
pub enum Backend {
    /// An index folder (created on the first write if missing).
    Index(PathBuf),
    /// A PostgreSQL database (its tables created on the first write).
    Postgres(bubble_postgres::Store),
}

/// A request's view of the corpus: the current generation of the index,
/// or a snapshot of the database opened for it.
pub(crate) type Snapshot = Arc<dyn Corpus>;

/// What `bubble serve` hands the server.
pub struct Parts {
    /// Where the corpus lives.
    pub backend: Backend,
    /// The embedding model for queries, or `None` for BM25 only.
    pub embedder: Option<Arc<Embedder>>,
    /// A second session of the same model for the writer, so that a commit
    /// embedding new documents never holds up a query's embedding (one
    /// session runs one call at a time); `None` shares `embedder`.
    pub writer_embedder: Option<Arc<Embedder>>,
    /// The RankGen-style heads, if loaded.
    pub ranker: Option<bubble_rank::Ranker>,
    /// Configuration.
    pub config: Config,
    /// Notices to report at start and in `/readyz` (BM25 only...).
    pub notices: Vec<String>,
}

/// An LRU of `n` entries; `None` (off) for 0.
fn cache<K: std::hash::Hash + Eq, V>(n: usize) -> Option<Mutex<LruCache<K, V>>> {
    NonZeroUsize::new(n).map(|n| Mutex::new(LruCache::new(n)))
}

/// A result cache's key: the index generation and the request as JSON.
pub(crate) type ResultKey = (u64, String);

impl AppState {
    /// Opens the index's writer (it holds the writer lock) and its
    /// current snapshot, parses the shipped pipelines.
    pub fn new(parts: Parts) -> Result<Arc<AppState>, crate::ServerError> {
        let Parts {
            backend,
            embedder,
            writer_embedder,
            ranker,
            config,
            notices,
        } = parts;
        let mut pipelines = HashMap::new();
        for (name, json) in bubble_assembly::pipelines::ALL {
            let p = Pipeline::from_json(json)
                .map_err(|e| crate::ServerError::Config(format!("shipped pipeline {name}: {e}")))?;
            pipelines.insert(name, Arc::new(p));
        }
        let (workers, queue) = (config.limits.workers, config.limits.queue);
        let state = Arc::new_cyclic(|weak| AppState {
            keys: Keys::new(&config.keys),
            snapshot: RwLock::new(None),
            store: match &backend {
                Backend::Postgres(store) => Some(store.clone()),
                Backend::Index(_) => None,
            },
            embedder: embedder.clone(),
            ranker,
            counters: Mutex::new(HashMap::new()),
            pipelines,
            traces: cache(config.trace_cache),
            results: cache(config.result_cache),
            admitted: Arc::new(Semaphore::new(workers + queue)),
            workers: Arc::new(Semaphore::new(workers)),
            metrics: Metrics::default(),
            writes: Writes::placeholder(weak.clone()),
            notices,
            config,
            openapi: std::sync::OnceLock::new(),
        });
        let first = state.writes.start(&backend, writer_embedder.or(embedder))?;
        state.set_snapshot(first);
        Ok(state)
    }

    /// The snapshot a request answers from. Opening a database's blocks:
    /// call it from a blocking thread ([`crate::work::compute`]).
    pub(crate) fn snapshot(&self) -> Result<Snapshot, ApiError> {
        self.snapshot_if_any()?
            .ok_or_else(|| ApiError::unavailable("the index is empty: upsert a document first"))
    }

    /// [`AppState::snapshot`], `None` while there is nothing indexed.
    fn snapshot_if_any(&self) -> Result<Option<Snapshot>, ApiError> {
        match &self.store {
            // A store whose tables exist but that has never committed is
            // as empty as an index folder without a generation.
            Some(store) => store
                .reader_if_any()
                .map(|r| {
                    r.filter(|r| r.manifest().generation > 0)
                        .map(|r| Arc::new(r) as Snapshot)
                })
                .map_err(|e| ApiError::unavailable(format!("the store is unavailable: {e}"))),
            None => Ok(self.current().map(|i| i as Snapshot)),
        }
    }

    /// Runs `read` over a snapshot on the blocking pool (opening a
    /// database's snapshot blocks), for handlers outside
    /// [`crate::work::compute`]; `None` while there is nothing indexed.
    pub(crate) async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        read: impl FnOnce(&dyn Corpus) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<Option<T>, ApiError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || match state.snapshot_if_any()? {
            Some(s) => read(s.as_ref()).map(Some),
            None => Ok(None),
        })
        .await
        .map_err(|e| ApiError::internal(format!("a read failed: {e}")))?
    }

    /// The index folder's current generation, if it has one (not for a
    /// database, whose snapshots are opened per request).
    pub(crate) fn current(&self) -> Option<Arc<Index>> {
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn set_snapshot(&self, index: Option<Arc<Index>>) {
        if let Some(index) = index {
            *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = Some(index);
        }
    }

    /// The counter of a named tokenizer (built once; never a file path a
    /// client could choose): the index's own, or a tiktoken encoding.
    pub(crate) fn counter(
        &self,
        name: Option<&str>,
        index: &dyn Corpus,
    ) -> Result<Arc<TokenCounter>, ApiError> {
        let indexed = index.manifest().tokenizer.as_str();
        let name = name.unwrap_or(indexed);
        const NAMED: [&str; 4] = ["cl100k_base", "o200k_base", "p50k_base", "r50k_base"];
        if name != indexed && !NAMED.contains(&name) {
            return Err(ApiError::bad_request(format!(
                "unknown tokenizer {name:?}: use one of {} or the index's own ({indexed})",
                NAMED.join(", ")
            )));
        }
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = counters.get(name) {
            return Ok(c.clone());
        }
        let counter = Arc::new(
            TokenCounter::by_name(name)
                .map_err(|e| ApiError::internal(format!("tokenizer {name}: {e}")))?,
        );
        counters.insert(name.to_string(), counter.clone());
        Ok(counter)
    }

    /// A cached answer to `key`, counting the hit or miss.
    pub(crate) fn cached(&self, key: &ResultKey) -> Option<Arc<serde_json::Value>> {
        let hit = self.results.as_ref().and_then(|c| {
            c.lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(key)
                .cloned()
        });
        let counter = match hit {
            Some(_) => &self.metrics.cache_hits,
            None => &self.metrics.cache_misses,
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        hit
    }

    /// Keeps an answer for later identical requests.
    pub(crate) fn remember(&self, key: ResultKey, value: Arc<serde_json::Value>) {
        if let Some(c) = &self.results {
            c.lock().unwrap_or_else(|p| p.into_inner()).put(key, value);
        }
    }

    /// Keeps a trace for `GET /v1/traces/{id}`.
    pub(crate) fn keep_trace(&self, trace: Trace) {
        if let Some(c) = &self.traces {
            c.lock()
                .unwrap_or_else(|p| p.into_inner())
                .put(trace.trace_id.clone(), Arc::new(trace));
        }
    }

    /// A kept trace.
    pub(crate) fn trace(&self, id: &str) -> Option<Arc<Trace>> {
        self.traces
            .as_ref()
            .and_then(|c| c.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned())
    }
}
