//! A reader: one consistent snapshot of the store (a read-only
//! repeatable-read transaction on one pooled connection), serving the
//! storage seam for one request.
//!
//! The pipeline reads spans, documents and vectors one at a time; over a
//! network each would be a round trip. So a search's hits are prefetched
//! (`Corpus::prefetch`): their whole documents (spans and block vectors)
//! in one round trip, their unit vectors in one more when compression
//! asks. Whole documents are kept by the process (`store::Shared`) and
//! shared by every snapshot that reaches them, so a later request for the
//! same documents reads no rows and copies nothing. Spans never change
//! under an ord, so a cached document is only ever stale by what the
//! snapshot could not see anyway.

use crate::bm25;
use crate::rows::{self, DOC_COLUMNS, SPAN_COLUMNS};
use crate::schema::Settings;
use crate::store::CachedDoc;
use crate::{Failure, Store};
use bubble_index::bubble_ingest::{Span, SpanKind};
use bubble_index::{
    bm25_terms, Corpus, Counts, DocEntry, EmbeddingInfo, IndexError, Manifest, Restriction,
    SpanFilter, SpanSource,
};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

/// A snapshot of the store.
pub struct Reader {
    store: Store,
    /// The connection holding the snapshot's transaction (`None` once given back).
    client: Mutex<Option<deadpool_postgres::Object>>,
    manifest: Manifest,
    /// Live retrievable spans and their mean length in terms (BM25).
    retrievable: f64,
    mean_length: f64,
    cache: Mutex<Cache>,
    /// The first failure a lookup met (it answered "absent").
    outage: OnceLock<String>,
}

/// What a snapshot has read. Whole documents are shared with the
/// process's cache, not copied: a request that finds its hits' documents
/// there costs a few map inserts.
#[derive(Default)]
struct Cache {
    /// Whole documents: spans, block vectors, unit vectors once read.
    whole: HashMap<u32, Arc<CachedDoc>>,
    /// Where each span of a whole document sits: document, position.
    placed: HashMap<u32, (u32, usize)>,
    /// What was read a row at a time, outside whole documents.
    spans: HashMap<u32, (u32, Span)>,
    docs: HashMap<u32, DocEntry>,
    ids: HashMap<String, Option<u32>>,
    vectors: HashMap<u32, Option<Vec<f32>>>,
    units: HashMap<u32, Option<Vec<f32>>>,
}

impl Cache {
    /// The whole document holding `ord`, and the span's position in it.
    fn placed(&self, ord: u32) -> Option<(u32, &Arc<CachedDoc>, usize)> {
        let (doc_no, i) = *self.placed.get(&ord)?;
        Some((doc_no, self.whole.get(&doc_no)?, i))
    }
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("store", &self.store)
            .field("generation", &self.manifest.generation)
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// A snapshot of `store`, or `None` while the database holds no Bubble
    /// store yet.
    pub(crate) fn open(store: &Store) -> Result<Option<Reader>, IndexError> {
        let Some(mut settings) = store.settings()? else {
            return Ok(None);
        };
        let (client, state) = store.block_on(async {
            let client = store.connection().await?;
            // One round trip: the snapshot and what it holds.
            let begin = client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
            let state = client.query_one(
                "SELECT generation, files, documents, spans, retrievable, vectors, \
                 unit_vectors, tokens, length_sum, \
                 (SELECT value FROM bubble_meta WHERE key = 'born') FROM bubble_state",
                &[],
            );
            let (begun, state) = tokio::join!(begin, state);
            begun?;
            let state = state?;
            let n = |i: usize| state.get::<_, i64>(i).max(0) as u64;
            let born: Option<String> = state.get(9);
            let state: Vec<u64> = (0..9).map(n).collect();
            Ok::<_, Failure>((client, (state, born)))
        })?;
        let (state, born) = state;
        if store.shared().saw(born) {
            store.forget_settings();
            settings = store
                .settings()?
                .ok_or_else(|| IndexError::Store("the store's tables vanished".into()))?;
        }
        let manifest = manifest(&settings, &state);
        Ok(Some(Reader {
            store: store.clone(),
            client: Mutex::new(Some(client)),
            retrievable: state[4] as f64,
            mean_length: state[8] as f64 / (state[4].max(1)) as f64,
            manifest,
            cache: Mutex::new(Cache::default()),
            outage: OnceLock::new(),
        }))
    }

    /// Runs `work` on the snapshot's connection.
    fn with<T>(
        &self,
        work: impl AsyncFnOnce(&deadpool_postgres::Object) -> Result<T, Failure>,
    ) -> Result<T, IndexError> {
        let guard = self.client.lock().unwrap_or_else(|p| p.into_inner());
        let Some(client) = guard.as_ref() else {
            return Err(IndexError::Store("the reader was closed".into()));
        };
        self.store.block_on(work(client))
    }

    /// [`Reader::with`] for lookups: a failure answers `None` and is kept
    /// for [`Corpus::damage`].
    fn lookup<T>(
        &self,
        work: impl AsyncFnOnce(&deadpool_postgres::Object) -> Result<T, Failure>,
    ) -> Option<T> {
        match self.with(work) {
            Ok(v) => Some(v),
            Err(e) => {
                let _ = self.outage.set(e.to_string());
                None
            }
        }
    }

    /// The row `sql` finds for `$1 = key`, if any; `None` on a failure,
    /// kept as for [`Reader::lookup`].
    fn one_row(
        &self,
        sql: &str,
        key: &(dyn tokio_postgres::types::ToSql + Sync),
    ) -> Option<Option<tokio_postgres::Row>> {
        self.lookup(async |c| row(c, sql, &[key]).await)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Loads whole documents (spans and vectors) into the cache: those
    /// `which` selects, a condition on `doc_no` with `$1`. Unit vectors
    /// come later, and only if compression asks ([`Reader::load_units`]).
    fn load_docs(&self, which: &str, key: &(dyn tokio_postgres::types::ToSql + Sync)) {
        let spans_sql = format!(
            "SELECT {SPAN_COLUMNS}, embedding FROM bubble_spans WHERE doc_no IN ({which}) ORDER BY ord"
        );
        let docs_sql =
            format!("SELECT {DOC_COLUMNS} FROM bubble_documents WHERE doc_no IN ({which})");
        let found = self.lookup(async |c| {
            // Two queries in one round trip.
            let params = [key];
            let (spans, docs) =
                tokio::join!(rows(c, &spans_sql, &params), rows(c, &docs_sql, &params));
            Ok((spans?, docs?))
        });
        let Some((spans, docs)) = found else {
            return;
        };
        // Whole documents: kept for this snapshot and for the process.
        let mut whole: HashMap<u32, CachedDoc> = HashMap::new();
        for row in &docs {
            if let Some((doc_no, doc)) = rows::doc(row) {
                whole.insert(doc_no, CachedDoc::new(doc));
            }
        }
        for row in &spans {
            if let Some((ord, doc_no, span)) = rows::span(row) {
                let v: Option<pgvector::Vector> = row.try_get(13).ok().flatten();
                if let Some(d) = whole.get_mut(&doc_no) {
                    d.push(ord, span, v.map(|v| v.to_vec()));
                }
            }
        }
        for (doc_no, doc) in whole {
            let doc = Arc::new(doc);
            self.install(doc_no, doc.clone());
            self.store.shared().keep(doc_no, doc);
        }
    }

    /// Whether this snapshot holds `ord`'s whole document.
    fn has_whole(&self, ord: u32) -> bool {
        self.cache().placed.contains_key(&ord)
    }

    /// Puts a whole document into this snapshot's cache.
    fn install(&self, doc_no: u32, doc: Arc<CachedDoc>) {
        let mut cache = self.cache();
        for (i, (ord, _, _)) in doc.spans.iter().enumerate() {
            cache.placed.insert(*ord, (doc_no, i));
        }
        cache.whole.insert(doc_no, doc);
    }

    /// Loads the unit vectors of every whole document in the cache that
    /// lacks them, in one query: compression asks for the units of the
    /// spans it keeps, all from documents a search brought in. They go
    /// into the shared documents, so later requests find them too.
    fn load_units(&self) {
        let lacking: Vec<(u32, Arc<CachedDoc>)> = self
            .cache()
            .whole
            .iter()
            .filter(|(_, d)| d.units.get().is_none())
            .map(|(n, d)| (*n, d.clone()))
            .collect();
        if lacking.is_empty() {
            return;
        }
        let wanted: Vec<i64> = lacking.iter().map(|(d, _)| i64::from(*d)).collect();
        let found = self.lookup(async |c| {
            rows(
                c,
                "SELECT ord, doc_no, embedding FROM bubble_units WHERE doc_no = ANY($1) ORDER BY ord",
                &[&wanted],
            )
            .await
        });
        let Some(units) = found else {
            return;
        };
        let mut read: HashMap<u32, Vec<(u32, Vec<f32>)>> = HashMap::new();
        for row in &units {
            let number = |i: usize| {
                row.try_get::<_, i64>(i)
                    .ok()
                    .and_then(|o| u32::try_from(o).ok())
            };
            let v: Option<pgvector::HalfVector> = row.try_get(2).ok();
            if let (Some(ord), Some(doc), Some(v)) = (number(0), number(1), v) {
                let v: Vec<f32> = v.to_vec().iter().map(|x| x.to_f32()).collect();
                read.entry(doc).or_default().push((ord, v));
            }
        }
        for (d, doc) in lacking {
            // In ord order, as queried: looked up by binary search.
            let units = read.remove(&d).unwrap_or_default();
            let grown = CachedDoc::unit_bytes(&units);
            if doc.units.set(units).is_ok() {
                self.store.shared().grew(d, &doc, grown);
            }
        }
    }

    /// The ords of the live spans of files `paths`, loading their documents
    /// into the cache: a writer's view of what a changed file held.
    pub fn load_files(&self, paths: &[String]) {
        let paths = paths.to_vec();
        self.load_docs(
            "SELECT doc_no FROM bubble_documents WHERE path = ANY($1)",
            &paths,
        );
    }

    /// `read` of the span at `ord` and its document's number.
    fn with_span<T>(&self, ord: u32, read: impl FnOnce(u32, &Span) -> T) -> Option<T> {
        {
            let cache = self.cache();
            if let Some((doc_no, doc, i)) = cache.placed(ord) {
                return Some(read(doc_no, &doc.spans[i].1));
            }
            if let Some((doc_no, span)) = cache.spans.get(&ord) {
                return Some(read(*doc_no, span));
            }
        }
        let sql = format!("SELECT {SPAN_COLUMNS} FROM bubble_spans WHERE ord = $1");
        let row = self.one_row(&sql, &i64::from(ord))??;
        let (_, doc_no, span) = rows::span(&row)?;
        let out = read(doc_no, &span);
        self.cache().spans.insert(ord, (doc_no, span));
        Some(out)
    }

    /// The SQL and parameters of a filter, over spans aliased `s`, its
    /// parameters numbered from `$first`.
    fn filter_sql(restriction: &Restriction, first: usize) -> (String, Vec<i16>, Vec<String>) {
        let mut sql = String::new();
        let kinds: Vec<i16> = restriction
            .filter
            .kinds
            .iter()
            .map(|k| rows::kind_code(*k))
            .collect();
        let mut n = first;
        if !kinds.is_empty() {
            sql.push_str(&format!(" AND s.kind = ANY(${n}::int2[])"));
            n += 1;
        }
        let paths = restriction.files.clone().unwrap_or_default();
        if restriction.files.is_some() {
            sql.push_str(&format!(" AND s.path = ANY(${n}::text[])"));
        }
        (sql, kinds, paths)
    }
}

/// `sql` with `params`, its statement prepared once per connection (a
/// query by text would prepare it again each time: a second round trip).
async fn rows(
    c: &deadpool_postgres::Object,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<tokio_postgres::Row>, Failure> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query(&statement, params).await?)
}

/// [`rows`], at most one.
async fn row(
    c: &deadpool_postgres::Object,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Option<tokio_postgres::Row>, Failure> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query_opt(&statement, params).await?)
}

impl Drop for Reader {
    fn drop(&mut self) {
        let client = self
            .client
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(client) = client {
            // Ends the snapshot before the connection goes back to the pool.
            self.store.spawn(async move {
                let _ = client.batch_execute("ROLLBACK").await;
            });
        }
    }
}

/// The manifest of a store: its settings and counts (`state` as read).
fn manifest(settings: &Settings, state: &[u64]) -> Manifest {
    let generation = state[0];
    Manifest {
        schema_version: bubble_index::SCHEMA_VERSION,
        id: format!("postgres-{generation}"),
        generation,
        tokenizer: settings.tokenizer.clone(),
        root: settings.root.clone(),
        embedding: settings.model.as_ref().map(|m| EmbeddingInfo {
            model: m.clone(),
            dim: settings.dim,
            pooling: settings.pooling.clone(),
        }),
        counts: Counts {
            files: state[1] as usize,
            documents: state[2] as usize,
            spans: state[3] as usize,
            retrievable: state[4] as usize,
            vectors: state[5] as usize,
            unit_vectors: state[6] as usize,
            tokens: state[7],
        },
        vector_files: Vec::new(),
        graphs: Vec::new(),
        base_ords: 0,
        unit_files: Vec::new(),
        checksums: Default::default(),
    }
}

impl Reader {
    /// The top `k` retrievable spans by PostgreSQL's own full-text rank,
    /// `ts_rank_cd` over the `english` configuration (title, headings and
    /// text, as BM25 reads them; any query word may match): the scoring a
    /// store without BM25 would have, for comparison only. It reads every
    /// span's text, so it is slow.
    pub fn ts_rank_cd(&self, query: &str, k: usize) -> Result<Vec<(u32, f32)>, IndexError> {
        let limit = k as i64;
        let found = self.with(async |c| {
            rows(
                c,
                "WITH q AS (
                    SELECT to_tsquery('english', coalesce(string_agg(quote_literal(l), ' | '), ''))
                        AS q
                    FROM unnest(tsvector_to_array(to_tsvector('english', $1))) l
                )
                SELECT s.ord, ts_rank_cd(v.v, q.q)::float4 AS score
                FROM q, bubble_spans s
                JOIN bubble_documents d ON d.doc_no = s.doc_no,
                LATERAL (SELECT to_tsvector('english', d.title || ' '
                    || array_to_string(s.heading_path, ' ') || ' ' || s.body) AS v) v
                WHERE s.terms_len IS NOT NULL AND v.v @@ q.q
                ORDER BY score DESC, s.ord
                LIMIT $2",
                &[&query, &limit],
            )
            .await
        })?;
        Ok(found
            .iter()
            .filter_map(|r| Some((u32::try_from(r.get::<_, i64>(0)).ok()?, r.get(1))))
            .collect())
    }
}

impl SpanSource for Reader {
    fn span_at(&self, ord: u32) -> Option<Cow<'_, Span>> {
        self.with_span(ord, |_, s| Cow::Owned(s.clone()))
    }
}

impl Corpus for Reader {
    fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    fn kind(&self, ord: u32) -> Option<SpanKind> {
        self.with_span(ord, |_, s| s.kind)
    }

    fn ord_of(&self, id: &str) -> Option<u32> {
        {
            let cache = self.cache();
            if let Some(found) = cache.ids.get(id) {
                return *found;
            }
            // The newest span of that id, as the query below takes.
            let whole = cache
                .whole
                .values()
                .filter_map(|d| d.ids.get(id).map(|&i| d.spans[i].0))
                .max();
            if whole.is_some() {
                return whole;
            }
        }
        let ord = self
            .one_row(
                "SELECT ord FROM bubble_spans WHERE span_id = $1 ORDER BY ord DESC LIMIT 1",
                &id,
            )?
            .and_then(|r| u32::try_from(r.try_get::<_, i64>(0).ok()?).ok());
        self.cache().ids.insert(id.to_string(), ord);
        ord
    }

    fn doc_of(&self, ord: u32) -> Option<DocEntry> {
        let doc_no = self.with_span(ord, |doc_no, _| doc_no)?;
        {
            let cache = self.cache();
            if let Some(whole) = cache.whole.get(&doc_no) {
                return Some(whole.doc.clone());
            }
            if let Some(doc) = cache.docs.get(&doc_no) {
                return Some(doc.clone());
            }
        }
        let sql = format!("SELECT {DOC_COLUMNS} FROM bubble_documents WHERE doc_no = $1");
        let row = self.one_row(&sql, &i64::from(doc_no))??;
        let (_, doc) = rows::doc(&row)?;
        self.cache().docs.insert(doc_no, doc.clone());
        Some(doc)
    }

    fn restrict(&self, filter: &SpanFilter) -> Result<Restriction, IndexError> {
        if filter.paths.is_empty() {
            return Ok(Restriction {
                filter: filter.clone(),
                ..Restriction::default()
            });
        }
        // Globs are matched here, once per file, as the embedded index
        // matches them; the query takes the matching paths.
        let globs = filter.globs()?;
        let paths: Vec<String> = self.with(async |c| {
            let rows = c.query("SELECT path FROM bubble_files", &[]).await?;
            Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
        })?;
        Ok(Restriction {
            filter: filter.clone(),
            allowed: None,
            files: Some(paths.into_iter().filter(|p| globs.is_match(p)).collect()),
        })
    }

    fn bm25(
        &self,
        query: &str,
        k: usize,
        restriction: &Restriction,
    ) -> Result<Vec<(u32, f32)>, IndexError> {
        let mut terms = bm25_terms(query);
        let mut seen = HashSet::new();
        terms.retain(|t| seen.insert(t.clone()));
        if terms.is_empty() || k == 0 || self.retrievable == 0.0 {
            return Ok(Vec::new());
        }
        let (filter, kinds, paths) = Reader::filter_sql(restriction, 6);
        let sql = bm25::query(&filter);
        let (n, mean, limit) = (self.retrievable, self.mean_length.max(1.0), k as i64);
        let budget = bm25::POSTINGS_PER_RESULT.saturating_mul(limit);
        let rows = self.with(async |c| {
            let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                vec![&terms, &n, &mean, &limit, &budget];
            if !kinds.is_empty() {
                params.push(&kinds);
            }
            if restriction.files.is_some() {
                params.push(&paths);
            }
            rows(c, &sql, &params).await
        })?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let ord = u32::try_from(r.get::<_, i64>(0)).ok()?;
                Some((ord, r.get::<_, f32>(1)))
            })
            .collect())
    }

    fn has_vectors(&self) -> bool {
        self.manifest.embedding.is_some()
    }

    fn dense(
        &self,
        query: &[f32],
        k: usize,
        ef: usize,
        restriction: &Restriction,
    ) -> Result<Vec<(u32, f32)>, IndexError> {
        if !self.has_vectors() {
            return Err(IndexError::NoVectors(
                "the store was built without an embedding model".into(),
            ));
        }
        if k == 0 {
            return Ok(Vec::new());
        }
        let (filter, kinds, paths) = Reader::filter_sql(restriction, 3);
        let vector = pgvector::Vector::from(query.to_vec());
        let limit = k as i64;
        // The graph's breadth, and with a filter an iterative scan, so
        // that filtered-out spans do not leave the answer short.
        let settings = format!(
            "SET LOCAL hnsw.ef_search = {}; SET LOCAL hnsw.iterative_scan = {}",
            ef.clamp(1, 1000),
            if filter.is_empty() {
                "off"
            } else {
                "relaxed_order"
            }
        );
        let sql = format!(
            "SELECT ord, score FROM (
                SELECT s.ord, (-(s.embedding <#> $1))::float4 AS score
                FROM bubble_spans s
                WHERE s.embedding IS NOT NULL {filter}
                ORDER BY s.embedding <#> $1
                LIMIT $2
            ) hits ORDER BY score DESC, ord"
        );
        let found = self.with(async |c| {
            let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&vector, &limit];
            if !kinds.is_empty() {
                params.push(&kinds);
            }
            if restriction.files.is_some() {
                params.push(&paths);
            }
            // The settings and the search in one round trip, in order.
            let (set, found) = tokio::join!(c.batch_execute(&settings), rows(c, &sql, &params));
            set?;
            found
        })?;
        Ok(found
            .iter()
            .filter_map(|r| {
                let ord = u32::try_from(r.get::<_, i64>(0)).ok()?;
                Some((ord, r.get::<_, f32>(1)))
            })
            .collect())
    }

    fn vector(&self, ord: u32) -> Option<Cow<'_, [f32]>> {
        {
            let cache = self.cache();
            if let Some((_, doc, i)) = cache.placed(ord) {
                return doc.spans[i].2.clone().map(Cow::Owned);
            }
            if let Some(found) = cache.vectors.get(&ord) {
                return found.clone().map(Cow::Owned);
            }
        }
        let v = self
            .one_row(
                "SELECT embedding FROM bubble_spans WHERE ord = $1",
                &i64::from(ord),
            )?
            .and_then(|r| r.try_get::<_, Option<pgvector::Vector>>(0).ok().flatten());
        let v = v.map(|v| v.to_vec());
        self.cache().vectors.insert(ord, v.clone());
        v.map(Cow::Owned)
    }

    fn has_unit_vectors(&self) -> bool {
        self.manifest.counts.unit_vectors > 0
    }

    fn unit_vector(&self, ord: u32, out: &mut Vec<f32>) -> bool {
        let whole = self.cache().placed(ord).map(|(_, d, _)| d.clone());
        if let Some(doc) = whole {
            if doc.units.get().is_none() {
                self.load_units();
            }
            // Not there after loading: the database failed (kept for damage()).
            let Some(v) = doc.units.get().and_then(|_| doc.unit(ord)) else {
                return false;
            };
            out.extend_from_slice(v);
            return true;
        }
        let cached = self.cache().units.get(&ord).cloned();
        let v = match cached {
            Some(v) => v,
            None => {
                let v = self
                    .one_row(
                        "SELECT embedding FROM bubble_units WHERE ord = $1",
                        &i64::from(ord),
                    )
                    .flatten()
                    .and_then(|r| r.try_get::<_, pgvector::HalfVector>(0).ok())
                    .map(|v| v.to_vec().iter().map(|x| x.to_f32()).collect::<Vec<f32>>());
                self.cache().units.insert(ord, v.clone());
                v
            }
        };
        match v {
            Some(v) => {
                out.extend_from_slice(&v);
                true
            }
            None => false,
        }
    }

    fn files_page(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<(String, String)>), IndexError> {
        let (offset, limit) = (offset as i64, limit as i64);
        self.with(async |c| {
            let total = c
                .query_one("SELECT count(*) FROM bubble_files", &[])
                .await?
                .get::<_, i64>(0);
            let rows = c
                .query(
                    "SELECT path, content_hash FROM bubble_files ORDER BY path OFFSET $1 LIMIT $2",
                    &[&offset, &limit],
                )
                .await?;
            let page = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            Ok((total.max(0) as usize, page))
        })
    }

    fn file(&self, path: &str) -> Result<Option<(String, Vec<DocEntry>)>, IndexError> {
        self.with(async |c| {
            let Some(file) = c
                .query_opt(
                    "SELECT content_hash FROM bubble_files WHERE path = $1",
                    &[&path],
                )
                .await?
            else {
                return Ok(None);
            };
            let rows = c
                .query(
                    &format!(
                        "SELECT {DOC_COLUMNS} FROM bubble_documents WHERE path = $1 ORDER BY doc_no"
                    ),
                    &[&path],
                )
                .await?;
            let docs = rows
                .iter()
                .filter_map(|r| rows::doc(r).map(|d| d.1))
                .collect();
            Ok(Some((file.get(0), docs)))
        })
    }

    fn damage(&self) -> Result<(), IndexError> {
        match self.outage.get() {
            Some(e) => Err(IndexError::Store(e.clone())),
            None => Ok(()),
        }
    }

    fn prefetch(&self, ords: &[u32]) {
        // What another request already read comes from the process's cache.
        let mut unknown: Vec<i64> = Vec::new();
        for &ord in ords {
            if self.has_whole(ord) {
                continue; // here already, maybe with an earlier ord's document
            }
            let found = self.store.shared().doc_holding(ord);
            match found {
                Some((doc_no, doc)) => self.install(doc_no, doc),
                None => unknown.push(i64::from(ord)),
            }
        }
        if unknown.is_empty() {
            return;
        }
        self.load_docs(
            "SELECT doc_no FROM bubble_spans WHERE ord = ANY($1)",
            &unknown,
        );
    }
}
