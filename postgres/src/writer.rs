//! Writing a store: files parsed and embedded as the embedded index does
//! it ([`bubble_index::prepare`]), then each commit in one transaction, so
//! a commit that returned is durable and a failed one changed nothing.
//!
//! The same incremental rules as the embedded writer: a file whose bytes
//! did not change is skipped, a changed file's unchanged sections keep
//! their vectors (read back from the store, not embedded again), and a
//! changed or removed file's spans give way to the new ones in the same
//! transaction. Ords only grow, as in the embedded index: a commit's
//! spans take the next free run of them.

use crate::bm25;
use crate::rows::kind_code;
use crate::schema::{self, Settings};
use crate::{Failure, Store};
use bubble_index::bubble_ingest::{tokens::DEFAULT_TOKENIZER, IngestOptions, TokenCounter};
use bubble_index::{
    bm25_terms, prepare, search_text, BuildReport, Change, CommitReport, DocumentWriter, Embedder,
    IndexError, Prepared, Progress, Staging, UnitCoverage,
};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// How a writer parses, counts and embeds.
#[derive(Debug, Clone, Default)]
pub struct WriterOptions {
    /// Per-file limits.
    pub ingest: IngestOptions,
    /// Tokenizer for span token counts (a new store's; `None`: the
    /// store's, or the default).
    pub tokenizer: Option<String>,
    /// Which units get vectors.
    pub unit_vectors: UnitCoverage,
    /// The folder paths are recorded relative to, for a new store.
    pub root: Option<PathBuf>,
}

/// What a commit did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Commit {
    /// The store's generation after it (unchanged when nothing was staged).
    pub generation: u64,
    /// Files written and removed.
    pub upserted: usize,
    /// Files removed.
    pub removed: usize,
    /// Spans written.
    pub spans: usize,
    /// Blocks embedded (not reused).
    pub embedded: usize,
    /// Seconds parsing into spans and embedding them (the model's share).
    pub embed_seconds: f64,
}

/// A writer of a store. Several may run at once (on several replicas):
/// each commit locks the store's state row, so commits take turns.
pub struct Writer<'e> {
    store: Store,
    root: PathBuf,
    /// Every file the store holds and its content hash, as of the last commit.
    held: BTreeMap<String, String>,

    embedder: Option<&'e Embedder>,
    units: UnitCoverage,
    pending: Staging,
}

impl std::fmt::Debug for Writer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("store", &self.store)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl<'e> Writer<'e> {
    /// A writer of `store`, creating its tables on first use; the model
    /// and tokenizer must be the store's.
    pub fn open(
        store: &Store,
        opts: &WriterOptions,
        embedder: Option<&'e Embedder>,
    ) -> Result<Writer<'e>, IndexError> {
        let wanted = Settings {
            tokenizer: opts
                .tokenizer
                .clone()
                .unwrap_or_else(|| DEFAULT_TOKENIZER.to_string()),
            model: embedder.map(|e| e.id().to_string()),
            dim: embedder.map_or(0, |e| e.dim()),
            pooling: bubble_index::POOLING.to_string(),
            root: opts
                .root
                .clone()
                .or_else(|| std::env::current_dir().ok())
                .map(|r| r.canonicalize().unwrap_or(r))
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        };
        let settings = match store.settings()? {
            Some(s) => s,
            None => schema::create(store, &wanted)?,
        };
        if let Some(t) = &opts.tokenizer {
            if *t != settings.tokenizer {
                return Err(IndexError::TokenizerMismatch {
                    indexed: settings.tokenizer.clone(),
                    requested: t.clone(),
                });
            }
        }
        match (&settings.model, embedder) {
            (Some(m), Some(e)) if m != e.id() => {
                return Err(IndexError::ModelMismatch {
                    indexed: m.clone(),
                    loaded: e.id().to_string(),
                })
            }
            (None, Some(_)) => {
                return Err(IndexError::NoVectors(
                    "the store was created without an embedding model: use a new database, \
                     or write with --no-embed"
                        .into(),
                ))
            }
            (Some(m), None) => {
                return Err(IndexError::Model(format!(
                    "the store's vectors come from {m}: load that model to write to it"
                )))
            }
            _ => {}
        }
        let mut writer = Writer {
            pending: Staging::new(
                TokenCounter::by_name(&settings.tokenizer)?,
                opts.ingest.clone(),
            ),
            store: store.clone(),
            root: PathBuf::from(&settings.root),
            held: BTreeMap::new(),
            embedder,
            units: opts.unit_vectors,
        };
        writer.held = writer.read_files()?;
        Ok(writer)
    }

    /// Every file the store holds, with its content hash.
    fn read_files(&self) -> Result<BTreeMap<String, String>, IndexError> {
        self.store.run(|c| async move {
            let rows = c
                .query("SELECT path, content_hash FROM bubble_files", &[])
                .await?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    /// The folder paths are recorded relative to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The files the store held at the last commit, with their hashes.
    pub fn files(&self) -> &BTreeMap<String, String> {
        &self.held
    }

    /// The content hash of `path`: staged, else held.
    pub fn file_hash(&self, path: &str) -> Option<String> {
        self.pending.hash(path, || self.held.get(path).cloned())
    }

    /// Stages file `path` (relative to the root, `/`-separated) with
    /// content `bytes`; returns the problems found inside it. Content
    /// identical to what the store holds stages nothing.
    pub fn upsert(&mut self, path: &str, bytes: &[u8]) -> Result<Vec<String>, IndexError> {
        let held = self.held.get(path).cloned();
        self.pending.upsert(path, bytes, || held)
    }

    /// Stages the removal of `path`; false when the store lacks it.
    pub fn delete(&mut self, path: &str) -> bool {
        let held = self.held.contains_key(path);
        self.pending.delete(path, held)
    }

    /// Changes staged.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Embeds the staged files and commits every staged change in one
    /// transaction; returns once it is committed.
    pub fn commit(
        &mut self,
        report: &mut BuildReport,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Commit, IndexError> {
        let pending = self.pending.take();
        if pending.is_empty() {
            let generation = self.store.reader()?.manifest_generation();
            return Ok(Commit {
                generation,
                ..Commit::default()
            });
        }
        let touched: Vec<String> = pending.keys().cloned().collect();
        let mut removed = 0;
        let mut files = Vec::new();
        let mut hashes = Vec::new();
        for (path, change) in pending {
            match change {
                Change::Upsert { hash, docs } => {
                    hashes.push((path.clone(), hash.clone()));
                    files.push((path, hash, docs));
                }
                Change::Delete => removed += 1,
            }
        }
        let upserted = files.len();
        // What the store holds of these files, for the sections to reuse.
        let previous = self.store.reader()?;
        previous.load_files(&touched);
        let before = report.embedded;
        let started = std::time::Instant::now();
        let prepared = prepare(
            files,
            (0, 0),
            self.embedder,
            self.units,
            Some(&previous),
            report,
            progress,
        )?;
        let embed_seconds = started.elapsed().as_secs_f64();
        drop(previous);
        progress(Progress::Writing);
        let rows = Rows::of(&prepared);
        let spans = prepared.spans.len();
        let paths = touched.clone();
        let generation = self.store.run(|mut c| async move {
            let tx = c.transaction().await?;
            let generation = write(&tx, &paths, &rows).await?;
            tx.commit().await?;
            Ok(generation)
        })?;
        for path in &touched {
            self.held.remove(path);
        }
        self.held.extend(hashes);
        Ok(Commit {
            generation,
            upserted,
            removed,
            spans,
            embedded: report.embedded - before,
            embed_seconds,
        })
    }
}

impl crate::Reader {
    fn manifest_generation(&self) -> u64 {
        bubble_index::Corpus::manifest(self).generation
    }
}

/// Spans staged before a walk commits them: a `bubble index --store` run
/// holds this much parsed text, not the corpus (each chunk its own
/// transaction).
const CHUNK_SPANS: usize = 131_072;

impl DocumentWriter for Writer<'_> {
    fn root(&self) -> &Path {
        &self.root
    }
    fn file_hash(&self, path: &str) -> Option<String> {
        Writer::file_hash(self, path)
    }
    fn held_files(&self) -> Vec<String> {
        self.held.keys().cloned().collect()
    }
    fn upsert(&mut self, path: &str, bytes: &[u8]) -> Result<Vec<String>, IndexError> {
        Writer::upsert(self, path, bytes)
    }
    fn delete(&mut self, path: &str) -> bool {
        Writer::delete(self, path)
    }
    fn flush_if_full(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<bool, IndexError> {
        if self.pending.spans() < CHUNK_SPANS {
            return Ok(false);
        }
        Writer::commit(self, &mut BuildReport::default(), progress)?;
        Ok(true)
    }
    fn commit(
        &mut self,
        report: &mut BuildReport,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<CommitReport, IndexError> {
        let started = std::time::Instant::now();
        let done = Writer::commit(self, report, progress)?;
        let reader = self.store.reader()?;
        Ok(CommitReport {
            committed: done.upserted + done.removed > 0,
            compacted: false,
            embedded: done.embedded,
            embed_seconds: done.embed_seconds,
            write_seconds: started.elapsed().as_secs_f64() - done.embed_seconds,
            manifest: Some(bubble_index::Corpus::manifest(&reader).clone()),
        })
    }
}

/// A prepared batch as column arrays (ords and document numbers still
/// relative to the batch: the commit adds the store's next free ones).
#[derive(Default)]
struct Rows {
    // Files.
    file_paths: Vec<String>,
    file_hashes: Vec<String>,
    file_doc_lo: Vec<i64>,
    file_doc_hi: Vec<i64>,
    // Documents.
    doc_paths: Vec<String>,
    doc_nos: Vec<i64>,
    doc_ids: Vec<String>,
    doc_sources: Vec<String>,
    doc_titles: Vec<String>,
    doc_hashes: Vec<String>,
    doc_metadata: Vec<serde_json::Value>,
    doc_ord_lo: Vec<i64>,
    doc_ord_hi: Vec<i64>,
    // Spans.
    span: SpanColumns,
    // Postings: one per (term, retrievable span).
    post_paths: Vec<String>,
    post_terms: Vec<String>,
    post_ords: Vec<i64>,
    post_tf: Vec<i32>,
    post_len: Vec<i32>,
    post_kinds: Vec<i16>,
    // Units.
    unit_paths: Vec<String>,
    unit_ords: Vec<i64>,
    unit_docs: Vec<i64>,
    unit_vectors: Vec<pgvector::HalfVector>,
    /// Each term's count of retrievable spans holding it.
    df: HashMap<String, i64>,
    /// Counts the state row adds.
    retrievable: i64,
    tokens: i64,
    length_sum: i64,
    vectors: i64,
    spans_total: i64,
    ord_count: i64,
    doc_count: i64,
}

#[derive(Default)]
struct SpanColumns {
    paths: Vec<String>,
    ords: Vec<i64>,
    doc_nos: Vec<i64>,
    doc_ids: Vec<String>,
    span_ids: Vec<String>,
    kinds: Vec<i16>,
    parents: Vec<Option<String>>,
    headings: Vec<serde_json::Value>,
    byte_lo: Vec<i64>,
    byte_hi: Vec<i64>,
    line_lo: Vec<i32>,
    line_hi: Vec<i32>,
    tokens: Vec<i32>,
    bodies: Vec<String>,
    terms_len: Vec<Option<i32>>,
    embeddings: Vec<Option<pgvector::Vector>>,
}

impl Rows {
    fn of(p: &Prepared) -> Rows {
        let mut r = Rows {
            ord_count: p.spans.len() as i64,
            doc_count: p.docs.len() as i64,
            spans_total: p.spans.len() as i64,
            ..Rows::default()
        };
        let vectors: HashMap<u32, &[f32]> = p.vectors.iter().flat_map(|m| m.rows()).collect();
        let mut path_of_doc: Vec<&str> = vec![""; p.docs.len()];
        for f in &p.files {
            r.file_paths.push(f.path.clone());
            r.file_hashes.push(f.content_hash.clone());
            r.file_doc_lo.push(i64::from(f.docs.start));
            r.file_doc_hi.push(i64::from(f.docs.end));
            for n in f.docs.clone() {
                if let Some(slot) = path_of_doc.get_mut(n as usize) {
                    *slot = &f.path;
                }
            }
        }
        for (n, d) in p.docs.iter().enumerate() {
            let path = path_of_doc[n].to_string();
            r.doc_paths.push(path.clone());
            r.doc_nos.push(n as i64);
            r.doc_ids.push(d.id.clone());
            r.doc_sources.push(d.source.clone());
            r.doc_titles.push(d.title.clone());
            r.doc_hashes.push(d.content_hash.clone());
            r.doc_metadata
                .push(serde_json::to_value(&d.metadata).unwrap_or_default());
            r.doc_ord_lo.push(i64::from(d.spans.start));
            r.doc_ord_hi.push(i64::from(d.spans.end));
            for ord in d.spans.clone() {
                let Some(span) = p.spans.get((ord - p.first_ord) as usize) else {
                    continue;
                };
                let s = &mut r.span;
                s.paths.push(path.clone());
                s.ords.push(i64::from(ord));
                s.doc_nos.push(n as i64);
                s.doc_ids.push(span.doc_id.clone());
                s.span_ids.push(span.id.0.clone());
                s.kinds.push(kind_code(span.kind));
                s.parents.push(span.parent.as_ref().map(|p| p.0.clone()));
                s.headings
                    .push(serde_json::to_value(&span.heading_path).unwrap_or_default());
                s.byte_lo.push(span.byte_range.start as i64);
                s.byte_hi.push(span.byte_range.end as i64);
                s.line_lo.push(span.line_range.0 as i32);
                s.line_hi.push(span.line_range.1 as i32);
                s.tokens.push(span.tokens as i32);
                s.bodies.push(span.text.clone());
                if span.kind.is_retrievable() {
                    let terms = bm25_terms(&search_text(&d.title, span));
                    let len = terms.len() as i32;
                    for (term, tf) in bm25::frequencies(&terms) {
                        *r.df.entry(term.to_string()).or_default() += 1;
                        r.post_paths.push(path.clone());
                        r.post_terms.push(term.to_string());
                        r.post_ords.push(i64::from(ord));
                        r.post_tf.push(tf);
                        r.post_len.push(len);
                        r.post_kinds.push(kind_code(span.kind));
                    }
                    r.retrievable += 1;
                    r.tokens += i64::from(span.tokens);
                    r.length_sum += i64::from(len);
                    s.terms_len.push(Some(len));
                } else {
                    s.terms_len.push(None);
                }
                let v = vectors
                    .get(&ord)
                    .map(|v| pgvector::Vector::from(v.to_vec()));
                r.vectors += i64::from(v.is_some());
                s.embeddings.push(v);
            }
        }
        if let Some(units) = &p.units {
            // Documents are in ord order: a unit's is found by bisection.
            let doc_of = |ord: u32| {
                let n = p.docs.partition_point(|d| d.spans.end <= ord);
                p.docs.get(n).filter(|d| d.spans.contains(&ord)).map(|_| n)
            };
            for (ord, v) in units.rows() {
                let Some(n) = doc_of(ord) else { continue };
                r.unit_paths.push(path_of_doc[n].to_string());
                r.unit_ords.push(i64::from(ord));
                r.unit_docs.push(n as i64);
                r.unit_vectors.push(pgvector::HalfVector::from(v.to_vec()));
            }
        }
        r
    }
}

/// Rows inserted per statement.
const BATCH: usize = 2000;

/// Replaces the store's rows of files `touched` with `rows`, in `tx`;
/// returns the new generation.
async fn write(
    tx: &tokio_postgres::Transaction<'_>,
    touched: &[String],
    rows: &Rows,
) -> Result<u64, Failure> {
    // Commits take turns here: the state row is the store's one lock.
    let state = tx
        .query_one(
            "SELECT next_ord, next_doc, retrievable, length_sum FROM bubble_state FOR UPDATE",
            &[],
        )
        .await?;
    let (base_ord, base_doc, retrievable, length_sum): (i64, i64, i64, i64) =
        (state.get(0), state.get(1), state.get(2), state.get(3));
    if base_ord + rows.ord_count > i64::from(u32::MAX) {
        return Err(Failure::Index(IndexError::Store(
            "the store has used up its span numbers (2^32): rebuild it into a new database".into(),
        )));
    }
    // What the touched files held, to take off the counts and frequencies.
    let gone = tx
        .query_one(
            "SELECT (SELECT count(*) FROM bubble_files WHERE path = ANY($1)),
                    (SELECT count(*) FROM bubble_documents WHERE path = ANY($1)),
                    count(*), count(terms_len), count(embedding),
                    coalesce(sum(tokens) FILTER (WHERE terms_len IS NOT NULL), 0),
                    coalesce(sum(terms_len), 0),
                    (SELECT count(*) FROM bubble_units WHERE path = ANY($1))
             FROM bubble_spans WHERE path = ANY($1)",
            &[&touched],
        )
        .await?;
    let gone: Vec<i64> = (0..8).map(|i| gone.get::<_, i64>(i)).collect();
    tx.execute(
        "UPDATE bubble_terms t SET df = t.df - g.n
         FROM (SELECT term, count(*) AS n FROM bubble_postings
               WHERE path = ANY($1) GROUP BY term) g
         WHERE t.term = g.term",
        &[&touched],
    )
    .await?;
    for table in [
        "bubble_postings",
        "bubble_units",
        "bubble_spans",
        "bubble_documents",
        "bubble_files",
    ] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE path = ANY($1)"),
            &[&touched],
        )
        .await?;
    }
    insert_files(tx, rows, base_doc).await?;
    insert_documents(tx, rows, base_ord, base_doc).await?;
    insert_spans(tx, &rows.span, base_ord, base_doc).await?;
    insert_units(tx, rows, base_ord, base_doc).await?;
    // The mean length once this commit is in: what a posting's impact is
    // computed at (it orders a common term's postings, nothing more).
    let spans_after = retrievable - gone[3] + rows.retrievable;
    let length_after = length_sum - gone[6] + rows.length_sum;
    let mean_length = length_after as f64 / spans_after.max(1) as f64;
    insert_postings(tx, rows, base_ord, mean_length.max(1.0)).await?;
    let (terms, counts): (Vec<&String>, Vec<i64>) = rows.df.iter().map(|(t, n)| (t, *n)).unzip();
    for (t, n) in terms.chunks(BATCH).zip(counts.chunks(BATCH)) {
        tx.execute(
            "INSERT INTO bubble_terms (term, df) SELECT * FROM unnest($1::text[], $2::int8[])
             ON CONFLICT (term) DO UPDATE SET df = bubble_terms.df + excluded.df",
            &[&t, &n],
        )
        .await?;
    }
    let files = rows.file_paths.len() as i64;
    let units = rows.unit_ords.len() as i64;
    let row = tx
        .query_one(
            "UPDATE bubble_state SET
                generation = generation + 1,
                next_ord = next_ord + $1,
                next_doc = next_doc + $2,
                files = files + $3,
                documents = documents + $4,
                spans = spans + $5,
                retrievable = retrievable + $6,
                vectors = vectors + $7,
                tokens = tokens + $8,
                length_sum = length_sum + $9,
                unit_vectors = unit_vectors + $10
             RETURNING generation",
            &[
                &rows.ord_count,
                &rows.doc_count,
                &(files - gone[0]),
                &(rows.doc_count - gone[1]),
                &(rows.spans_total - gone[2]),
                &(rows.retrievable - gone[3]),
                &(rows.vectors - gone[4]),
                &(rows.tokens - gone[5]),
                &(rows.length_sum - gone[6]),
                &(units - gone[7]),
            ],
        )
        .await?;
    Ok(row.get::<_, i64>(0) as u64)
}

fn shifted(xs: &[i64], by: i64) -> Vec<i64> {
    xs.iter().map(|x| x + by).collect()
}

async fn insert_files(
    tx: &tokio_postgres::Transaction<'_>,
    r: &Rows,
    base_doc: i64,
) -> Result<(), Failure> {
    tx.execute(
        "INSERT INTO bubble_files (path, content_hash, doc_lo, doc_hi)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[])",
        &[
            &r.file_paths,
            &r.file_hashes,
            &shifted(&r.file_doc_lo, base_doc),
            &shifted(&r.file_doc_hi, base_doc),
        ],
    )
    .await?;
    Ok(())
}

async fn insert_documents(
    tx: &tokio_postgres::Transaction<'_>,
    r: &Rows,
    base_ord: i64,
    base_doc: i64,
) -> Result<(), Failure> {
    for start in (0..r.doc_nos.len()).step_by(BATCH) {
        let end = (start + BATCH).min(r.doc_nos.len());
        tx.execute(
            "INSERT INTO bubble_documents
                (path, doc_no, doc_id, source, title, content_hash, metadata, ord_lo, ord_hi)
             SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[],
                                  $6::text[], $7::jsonb[], $8::int8[], $9::int8[])",
            &[
                &&r.doc_paths[start..end],
                &shifted(&r.doc_nos[start..end], base_doc),
                &&r.doc_ids[start..end],
                &&r.doc_sources[start..end],
                &&r.doc_titles[start..end],
                &&r.doc_hashes[start..end],
                &&r.doc_metadata[start..end],
                &shifted(&r.doc_ord_lo[start..end], base_ord),
                &shifted(&r.doc_ord_hi[start..end], base_ord),
            ],
        )
        .await?;
    }
    Ok(())
}

async fn insert_spans(
    tx: &tokio_postgres::Transaction<'_>,
    s: &SpanColumns,
    base_ord: i64,
    base_doc: i64,
) -> Result<(), Failure> {
    for start in (0..s.ords.len()).step_by(BATCH) {
        let end = (start + BATCH).min(s.ords.len());
        tx.execute(
            "INSERT INTO bubble_spans
                (path, ord, doc_no, doc_id, span_id, kind, parent_id, heading_path,
                 byte_lo, byte_hi, line_lo, line_hi, tokens, body, terms_len, embedding)
             SELECT path, ord, doc_no, doc_id, span_id, kind, parent_id,
                    ARRAY(SELECT jsonb_array_elements_text(heading)),
                    byte_lo, byte_hi, line_lo, line_hi, tokens, body, terms_len, embedding
             FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::text[],
                         $6::int2[], $7::text[], $8::jsonb[], $9::int8[], $10::int8[],
                         $11::int4[], $12::int4[], $13::int4[], $14::text[], $15::int4[],
                         $16::vector[])
                  AS t(path, ord, doc_no, doc_id, span_id, kind, parent_id, heading,
                       byte_lo, byte_hi, line_lo, line_hi, tokens, body, terms_len,
                       embedding)",
            &[
                &&s.paths[start..end],
                &shifted(&s.ords[start..end], base_ord),
                &shifted(&s.doc_nos[start..end], base_doc),
                &&s.doc_ids[start..end],
                &&s.span_ids[start..end],
                &&s.kinds[start..end],
                &&s.parents[start..end],
                &&s.headings[start..end],
                &&s.byte_lo[start..end],
                &&s.byte_hi[start..end],
                &&s.line_lo[start..end],
                &&s.line_hi[start..end],
                &&s.tokens[start..end],
                &&s.bodies[start..end],
                &&s.terms_len[start..end],
                &&s.embeddings[start..end],
            ],
        )
        .await?;
    }
    Ok(())
}

async fn insert_postings(
    tx: &tokio_postgres::Transaction<'_>,
    r: &Rows,
    base_ord: i64,
    mean_length: f64,
) -> Result<(), Failure> {
    // Postings are many and narrow: larger batches.
    let batch = 8 * BATCH;
    let sql = format!(
        "INSERT INTO bubble_postings (path, term, ord, tf, len, kind, impact)
         SELECT path, term, ord, tf, len, kind, {}
         FROM unnest($1::text[], $2::text[], $3::int8[], $4::int4[], $5::int4[], $6::int2[])
              AS t(path, term, ord, tf, len, kind)",
        bm25::IMPACT_SQL
    );
    for start in (0..r.post_ords.len()).step_by(batch) {
        let end = (start + batch).min(r.post_ords.len());
        tx.execute(
            &sql,
            &[
                &&r.post_paths[start..end],
                &&r.post_terms[start..end],
                &shifted(&r.post_ords[start..end], base_ord),
                &&r.post_tf[start..end],
                &&r.post_len[start..end],
                &&r.post_kinds[start..end],
                &mean_length,
            ],
        )
        .await?;
    }
    Ok(())
}

async fn insert_units(
    tx: &tokio_postgres::Transaction<'_>,
    r: &Rows,
    base_ord: i64,
    base_doc: i64,
) -> Result<(), Failure> {
    for start in (0..r.unit_ords.len()).step_by(BATCH) {
        let end = (start + BATCH).min(r.unit_ords.len());
        tx.execute(
            "INSERT INTO bubble_units (path, ord, doc_no, embedding)
             SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::halfvec[])",
            &[
                &&r.unit_paths[start..end],
                &shifted(&r.unit_ords[start..end], base_ord),
                &shifted(&r.unit_docs[start..end], base_doc),
                &&r.unit_vectors[start..end],
            ],
        )
        .await?;
    }
    Ok(())
}
