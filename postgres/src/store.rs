//! A connection to a database holding a Bubble store: a pool, the driver's
//! runtime, timeouts, and clear errors when the database is away.

use crate::reader::Reader;
use crate::schema::{self, Settings};
use bubble_index::IndexError;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Timeouts};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// How long a connection may take to open, and a statement to run.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const STATEMENT_TIMEOUT_MS: u64 = 60_000;

/// A Bubble store in a PostgreSQL database: cheap to clone, shared by
/// every reader and writer of a process.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// Whole documents read by any reader, shared by all of them.
    shared: Mutex<Shared>,
    /// What the store was created with, once it has been (read again only
    /// when the store is dropped and created anew).
    settings: Mutex<Option<Settings>>,
    runtime: tokio::runtime::Runtime,
    /// The URL without its password, for messages.
    shown: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.inner.shown)
    }
}

/// Bytes of documents a process keeps between requests: documents differ
/// a thousandfold in size, so the budget is in bytes, not documents.
const SHARED_BYTES: usize = 256 << 20;
/// Ords whose document the process remembers (16 bytes and the map's own
/// cost each); an ord forgotten is a cache miss, never a wrong answer.
const SHARED_ORDS: usize = 1 << 18;

/// A document as a reader loads it: its entry, its spans (in ord order)
/// with their block vectors, and (once compression asked) its unit
/// vectors. What an ord or a document number names never changes (a
/// changed file's documents get new numbers and ords), so a copy is never
/// stale: a snapshot that cannot see a document never reaches it, since it
/// finds documents through the ords its own searches return.
pub(crate) struct CachedDoc {
    pub(crate) doc: bubble_index::DocEntry,
    pub(crate) spans: Vec<(u32, bubble_index::bubble_ingest::Span, Option<Vec<f32>>)>,
    /// Span id → position in `spans`.
    pub(crate) ids: HashMap<String, usize>,
    /// Unit vectors by ord, in ord order.
    pub(crate) units: OnceLock<Vec<(u32, Vec<f32>)>>,
}

impl CachedDoc {
    pub(crate) fn new(doc: bubble_index::DocEntry) -> CachedDoc {
        CachedDoc {
            doc,
            spans: Vec::new(),
            ids: HashMap::new(),
            units: OnceLock::new(),
        }
    }

    /// Adds the next span (in ord order).
    pub(crate) fn push(
        &mut self,
        ord: u32,
        span: bubble_index::bubble_ingest::Span,
        vector: Option<Vec<f32>>,
    ) {
        self.ids.insert(span.id.0.clone(), self.spans.len());
        self.spans.push((ord, span, vector));
    }

    /// About what the document holds in memory, its unit vectors aside.
    fn bytes(&self) -> usize {
        let text = |t: &str| t.len() + 24;
        let spans: usize = self
            .spans
            .iter()
            .map(|(_, span, vector)| {
                let headings: usize = span.heading_path.iter().map(|h| text(h)).sum();
                let ids = text(&span.id.0) * 2 + text(&span.doc_id);
                let parent = span.parent.as_ref().map_or(0, |p| text(&p.0));
                let vector = vector.as_ref().map_or(0, |v| v.len() * 4);
                std::mem::size_of_val(span) + text(&span.text) + headings + ids + parent + vector
            })
            .sum();
        spans + 256
    }

    /// What the unit vectors hold in memory.
    pub(crate) fn unit_bytes(units: &[(u32, Vec<f32>)]) -> usize {
        units.iter().map(|(_, v)| v.len() * 4 + 32).sum()
    }

    /// The unit vector of `ord`, once the units are loaded.
    pub(crate) fn unit(&self, ord: u32) -> Option<&[f32]> {
        let units = self.units.get()?;
        let i = units.binary_search_by_key(&ord, |(o, _)| *o).ok()?;
        Some(&units[i].1)
    }
}

/// The process's cache of whole documents, and which document each ord
/// belongs to, least recently used dropped first once they pass
/// [`SHARED_BYTES`].
pub(crate) struct Shared {
    /// Each document and the bytes it was counted for.
    docs: lru::LruCache<u32, (Arc<CachedDoc>, usize)>,
    doc_of: lru::LruCache<u32, u32>,
    bytes: usize,
    budget: usize,
    /// The identity of the store the cache holds documents of.
    born: Option<String>,
}

impl Shared {
    fn new(budget: usize) -> Shared {
        let ords = std::num::NonZeroUsize::new(SHARED_ORDS).unwrap_or(std::num::NonZeroUsize::MIN);
        Shared {
            docs: lru::LruCache::unbounded(),
            doc_of: lru::LruCache::new(ords),
            bytes: 0,
            budget,
            born: None,
        }
    }

    /// Notes a snapshot of the store born as `born`; whether that is another
    /// store than the one cached. A store dropped and created again under a
    /// running process numbers documents and ords afresh, so its cache is
    /// forgotten.
    pub(crate) fn saw(&mut self, born: Option<String>) -> bool {
        let other = self.born.is_some() && self.born != born;
        if other {
            self.docs.clear();
            self.doc_of.clear();
            self.bytes = 0;
        }
        self.born = born;
        other
    }

    /// The cached document holding `ord` and its number, if any.
    pub(crate) fn doc_holding(&mut self, ord: u32) -> Option<(u32, Arc<CachedDoc>)> {
        let doc_no = *self.doc_of.get(&ord)?;
        Some((doc_no, self.docs.get(&doc_no)?.0.clone()))
    }

    /// Keeps `doc` (number `doc_no`), just read: its unit vectors, read
    /// later, are counted then ([`Shared::grew`]).
    pub(crate) fn keep(&mut self, doc_no: u32, doc: Arc<CachedDoc>) {
        for (ord, _, _) in &doc.spans {
            self.doc_of.put(*ord, doc_no);
        }
        let bytes = doc.bytes();
        if let Some((_, old)) = self.docs.put(doc_no, (doc, bytes)) {
            self.bytes -= old;
        }
        self.bytes += bytes;
        self.evict();
    }

    /// Counts `grown` more bytes for document `doc_no` (its unit vectors,
    /// loaded after it was kept), if the process still keeps that copy.
    pub(crate) fn grew(&mut self, doc_no: u32, doc: &Arc<CachedDoc>, grown: usize) {
        if let Some((kept, bytes)) = self.docs.peek_mut(&doc_no) {
            if Arc::ptr_eq(kept, doc) {
                *bytes += grown;
                self.bytes += grown;
            }
        }
        self.evict();
    }

    /// Drops the least recently used documents while over the budget.
    fn evict(&mut self) {
        while self.bytes > self.budget {
            match self.docs.pop_lru() {
                Some((_, (_, bytes))) => self.bytes -= bytes,
                None => break,
            }
        }
    }
}

/// A failed database call, before it becomes an [`IndexError`].
#[derive(Debug)]
pub(crate) enum Failure {
    Db(tokio_postgres::Error),
    Index(IndexError),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Failure {
        Failure::Db(e)
    }
}

impl From<IndexError> for Failure {
    fn from(e: IndexError) -> Failure {
        Failure::Index(e)
    }
}

impl Failure {
    fn into_error(self, shown: &str) -> IndexError {
        match self {
            Failure::Index(e) => e,
            Failure::Db(e) => {
                let detail = match e.as_db_error() {
                    Some(db) => format!("{}: {}", db.severity(), db.message()),
                    None => match std::error::Error::source(&e) {
                        Some(cause) => format!("{e}: {cause}"),
                        None => e.to_string(),
                    },
                };
                IndexError::Store(format!("PostgreSQL at {shown}: {detail}"))
            }
        }
    }
}

impl Store {
    /// Connects to the database at `url` (`postgres://user@host:port/db`)
    /// and checks that it answers; the pool opens more connections as
    /// they are needed, and again after the database comes back.
    pub fn connect(url: &str, connections: usize) -> Result<Store, IndexError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| IndexError::Store(format!("bad PostgreSQL URL: {e}")))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        config.options(format!("-c statement_timeout={STATEMENT_TIMEOUT_MS}"));
        config.application_name("bubble");
        let shown = shown(&config);
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("bubble-postgres")
            .enable_all()
            .build()
            .map_err(|e| IndexError::Store(format!("starting the database driver: {e}")))?;
        let pool = Pool::builder(manager)
            .max_size(connections.max(1))
            .timeouts(Timeouts {
                wait: Some(CONNECT_TIMEOUT),
                create: Some(CONNECT_TIMEOUT),
                recycle: Some(CONNECT_TIMEOUT),
            })
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| IndexError::Store(format!("connection pool: {e}")))?;
        let store = Store {
            inner: Arc::new(Inner {
                pool,
                shared: Mutex::new(Shared::new(SHARED_BYTES)),
                settings: Mutex::new(None),
                runtime,
                shown,
            }),
        };
        store.run(|client| async move {
            client.simple_query("SELECT 1").await?;
            Ok(())
        })?;
        Ok(store)
    }

    /// Runs `work` with a pooled connection, on the driver's runtime.
    pub(crate) fn run<T, F, Fut>(&self, work: F) -> Result<T, IndexError>
    where
        F: FnOnce(deadpool_postgres::Object) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        self.inner
            .runtime
            .block_on(async {
                let client = self.connection().await?;
                work(client).await
            })
            .map_err(|f| f.into_error(&self.inner.shown))
    }

    /// Runs `work` on the driver's runtime (with a connection it holds).
    pub(crate) fn block_on<T>(
        &self,
        work: impl Future<Output = Result<T, Failure>>,
    ) -> Result<T, IndexError> {
        self.inner
            .runtime
            .block_on(work)
            .map_err(|f| f.into_error(&self.inner.shown))
    }

    /// Hands `work` to the driver's runtime without waiting (a rollback
    /// when a reader is dropped, wherever that happens).
    pub(crate) fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        self.inner.runtime.spawn(work);
    }

    /// A pooled connection.
    pub(crate) async fn connection(&self) -> Result<deadpool_postgres::Object, Failure> {
        self.inner.pool.get().await.map_err(|e| {
            Failure::Index(IndexError::Store(format!(
                "PostgreSQL at {} is unavailable: {e} (is it running? `scripts/postgres start` \
                 starts one)",
                self.inner.shown
            )))
        })
    }

    /// Forgets the settings read, for a store created anew.
    pub(crate) fn forget_settings(&self) {
        *self
            .inner
            .settings
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The shared cache of whole documents (see [`CachedDoc`]).
    pub(crate) fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.inner.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The database, as messages name it (no password).
    pub fn shown(&self) -> &str {
        &self.inner.shown
    }

    /// What the store was created with, or `None` when the database holds
    /// no Bubble store yet.
    pub fn settings(&self) -> Result<Option<Settings>, IndexError> {
        let held = || {
            self.inner
                .settings
                .lock()
                .unwrap_or_else(|p| p.into_inner())
        };
        if let Some(s) = held().as_ref() {
            return Ok(Some(s.clone()));
        }
        let found = schema::read(self)?;
        held().clone_from(&found);
        Ok(found)
    }

    /// A consistent snapshot of the store, for one request.
    pub fn reader(&self) -> Result<Reader, IndexError> {
        self.reader_if_any()?.ok_or_else(|| {
            IndexError::Store(format!(
                "no Bubble store in {} (index into it first: bubble index <PATH> --store <URL>)",
                self.shown()
            ))
        })
    }

    /// [`Store::reader`], or `None` while the database holds no store yet.
    pub fn reader_if_any(&self) -> Result<Option<Reader>, IndexError> {
        Reader::open(self)
    }
}

/// `user@host:port/db` of a config, for messages.
fn shown(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        config.get_user().unwrap_or(""),
        config.get_dbname().unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bubble_index::bubble_ingest::{Span, SpanId, SpanKind};

    /// A document of `spans` spans of 1,000 bytes of text each.
    fn doc(first_ord: u32, spans: u32) -> Arc<CachedDoc> {
        let mut d = CachedDoc::new(bubble_index::DocEntry {
            id: format!("d{first_ord}"),
            source: format!("d{first_ord}.md"),
            title: String::new(),
            content_hash: String::new(),
            metadata: Default::default(),
            spans: first_ord..first_ord + spans,
        });
        for ord in first_ord..first_ord + spans {
            let span = Span {
                id: SpanId(format!("s{ord}")),
                doc_id: format!("d{first_ord}"),
                kind: SpanKind::Paragraph,
                parent: None,
                heading_path: Vec::new(),
                byte_range: 0..1000,
                line_range: (1, 1),
                text: "x".repeat(1000),
                tokens: 200,
            };
            d.push(ord, span, Some(vec![0.0; 384]));
        }
        Arc::new(d)
    }

    #[test]
    fn the_cache_keeps_to_its_byte_budget_least_recently_used_out() {
        let one = doc(0, 10).bytes();
        let mut shared = Shared::new(3 * one + one / 2);
        for n in 0..3 {
            shared.keep(n, doc(n * 10, 10));
        }
        // Document 0 used last: 1 is the least recently used.
        assert!(shared.doc_holding(5).is_some());
        shared.keep(3, doc(30, 10));
        assert!(shared.bytes <= shared.budget);
        assert!(shared.doc_holding(15).is_none(), "1 dropped");
        for ord in [5, 25, 35] {
            assert!(shared.doc_holding(ord).is_some(), "{ord} kept");
        }
        // Unit vectors loaded later count too, and push the oldest out.
        let (n, kept) = shared.doc_holding(35).unwrap();
        let units: Vec<(u32, Vec<f32>)> = (30..40).map(|o| (o, vec![0.0; 384])).collect();
        let grown = CachedDoc::unit_bytes(&units);
        kept.units.set(units).unwrap();
        shared.grew(n, &kept, grown);
        assert!(shared.bytes <= shared.budget);
        assert!(shared.doc_holding(35).is_some());
        // A store created anew forgets everything.
        shared.saw(Some("a".into()));
        assert!(shared.saw(Some("b".into())));
        assert_eq!(shared.bytes, 0);
        assert!(shared.doc_holding(35).is_none());
    }
}
