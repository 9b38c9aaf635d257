//! The retrieval benchmark: index a BEIR-style corpus through Bubble's own
//! ingestion (JSONL records), run every query in each mode, and report
//! nDCG@10, Recall@100, indexing throughput and search latency.
//!
//! The index is built in a work folder and reused: the second run embeds
//! nothing (incremental indexing sees unchanged records), so quality can be
//! re-measured in seconds after the first ~6-minute embedding pass.

use crate::metrics::{mean, ndcg_at_k, percentile, recall_at_k};
use crate::scifact::SciFact;
use crate::EvalError;
use bubble_index::{build, BuildOptions, BuildReport, Embedder, Index, Progress};
use bubble_retrieval::{Fusion, Mode, Retriever, SearchRequest};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where and how to run.
#[derive(Debug, Clone)]
pub struct RetrievalEvalOptions {
    /// Folder for the converted corpus, the index and the saved build report.
    pub work_dir: PathBuf,
    /// Modes to measure.
    pub modes: Vec<Mode>,
    /// Fusions to measure in hybrid mode.
    pub fusions: Vec<Fusion>,
    /// Candidates per channel.
    pub depth: usize,
    /// HNSW search breadth.
    pub ef: usize,
    /// Also measure the weighted hybrid's top `depth` reranked by this
    /// ranker, with this weight (mode `rerank`).
    pub rerank: Option<(bubble_rank::Ranker, f32)>,
    /// A PostgreSQL database to hold the corpus instead of an index folder.
    pub store: Option<String>,
}

/// Scores of one mode (and fusion).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModeResult {
    /// "bm25", "dense", "hybrid-rrf", "hybrid-weighted".
    pub name: String,
    /// Mean nDCG@10.
    pub ndcg_at_10: f64,
    /// Mean Recall@100.
    pub recall_at_100: f64,
    /// Median search latency, milliseconds (query embedding included).
    pub p50_ms: f64,
    /// 99th percentile search latency, milliseconds.
    pub p99_ms: f64,
    /// Median time embedding the query, milliseconds (part of `p50_ms`).
    pub embed_p50_ms: f64,
}

/// How the index was built (from the run that built it).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IndexingStats {
    /// Documents indexed.
    pub documents: usize,
    /// Spans of every kind.
    pub spans: usize,
    /// Spans embedded.
    pub embedded: usize,
    /// Seconds in all.
    pub seconds: f64,
    /// Seconds in the embedding model.
    pub embed_seconds: f64,
    /// Share of the time spent embedding.
    pub embed_share: f64,
    /// Spans per second over the whole build.
    pub spans_per_second: f64,
    /// Whether this run built the index (false: reused from the work folder).
    pub built_now: bool,
}

/// The whole result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetrievalEval {
    /// Dataset name.
    pub dataset: String,
    /// Queries evaluated.
    pub queries: usize,
    /// Judged (query, doc) pairs.
    pub qrels: usize,
    /// Indexing statistics.
    pub indexing: IndexingStats,
    /// One row per mode.
    pub modes: Vec<ModeResult>,
    /// Notices (e.g. BM25 only).
    pub notices: Vec<String>,
}

impl RetrievalEval {
    /// A Markdown table of the results.
    pub fn to_table(&self) -> String {
        let mut s = format!(
            "{}: {} queries, {} qrels\n\n| mode | nDCG@10 | Recall@100 | p50 ms | p99 ms | query embedding p50 ms |\n|---|---|---|---|---|---|\n",
            self.dataset, self.queries, self.qrels
        );
        for m in &self.modes {
            s += &format!(
                "| {} | {:.3} | {:.3} | {:.1} | {:.1} | {:.1} |\n",
                m.name, m.ndcg_at_10, m.recall_at_100, m.p50_ms, m.p99_ms, m.embed_p50_ms
            );
        }
        let i = &self.indexing;
        s += &format!(
            "\nindexing: {} documents, {} spans, {} embedded, {:.1} s ({:.0} spans/s), embedding {:.0}% of the time{}\n",
            i.documents,
            i.spans,
            i.embedded,
            i.seconds,
            i.spans_per_second,
            i.embed_share * 100.0,
            if i.built_now { "" } else { " (index reused; figures from the run that built it)" }
        );
        for n in &self.notices {
            s += &format!("note: {n}\n");
        }
        s
    }
}

/// The saved build report of a work folder's store (`index` or `postgres`).
fn report_file(store: &str) -> String {
    match store {
        "index" => "build-report.json".into(),
        other => format!("build-report-{other}.json"),
    }
}

/// The SciFact corpus's index in `work_dir` (built if missing or stale).
pub fn scifact_index(
    work_dir: &Path,
    data: &SciFact,
    embedder: &Embedder,
    progress: &mut dyn FnMut(Progress),
) -> Result<Index, EvalError> {
    Ok(corpus_index(work_dir, |p| data.write_jsonl(p), Some(embedder), progress)?.0)
}

/// Runs the SciFact benchmark, on the index in the work folder or, with
/// `opts.store`, on that database.
pub fn run_scifact(
    data: &SciFact,
    opts: &RetrievalEvalOptions,
    embedder: Option<&Embedder>,
    progress: &mut dyn FnMut(Progress),
) -> Result<RetrievalEval, EvalError> {
    let (source, indexing) = crate::source::corpus_source(
        &opts.work_dir,
        |p| data.write_jsonl(p),
        embedder,
        opts.store.as_deref(),
        progress,
    )?;
    let unavailable = source.with(|c| Ok(Retriever::new(c, embedder).dense_unavailable()))?;
    let mut notices = Vec::new();
    if let Some(why) = &unavailable {
        notices.push(format!("dense and hybrid skipped: {why}"));
    }
    let mut modes = Vec::new();
    for &mode in &opts.modes {
        if mode != Mode::Bm25 && unavailable.is_some() {
            continue;
        }
        let fusions: Vec<Option<Fusion>> = match mode {
            Mode::Hybrid => opts.fusions.iter().copied().map(Some).collect(),
            _ => vec![None],
        };
        for fusion in fusions {
            modes.push(run_mode(data, &source, embedder, mode, fusion, None, opts)?);
        }
    }
    if let (Some((ranker, weight)), None) = (&opts.rerank, &unavailable) {
        let fusion = Fusion::Weighted { dense_weight: 0.5 };
        let rerank = Some((ranker, *weight));
        modes.push(run_mode(
            data,
            &source,
            embedder,
            Mode::Hybrid,
            Some(fusion),
            rerank,
            opts,
        )?);
    }
    if let crate::source::Source::Postgres(store) = &source {
        modes.push(ts_rank_cd_mode(data, store, opts)?);
    }
    Ok(RetrievalEval {
        dataset: "scifact".into(),
        queries: data.queries.len(),
        qrels: data.qrels.pair_count(),
        indexing,
        modes,
        notices,
    })
}

/// The hits reordered by the ranker: its score of each hit's stored
/// vector, blended with the hit's BM25 score as the rerank operator does.
fn reranked(
    retriever: &Retriever<'_>,
    resp: &bubble_retrieval::SearchResponse,
    ranker: &bubble_rank::Ranker,
    weight: f32,
) -> Vec<u32> {
    let corpus = retriever.corpus();
    let prefix = resp.query_vector.as_ref().and_then(|q| ranker.prefix(q));
    let score = |ord: u32| {
        let v = corpus.vector(ord)?;
        Some(bubble_rank::Ranker::score(prefix.as_ref()?, &v))
    };
    let bm25: Vec<Option<f32>> = resp.hits.iter().map(|h| h.bm25.map(|b| b.score)).collect();
    // As the rerank operator: the ranker rescores the dense channel's hits.
    let rank: Vec<Option<f32>> = resp
        .hits
        .iter()
        .map(|h| h.dense.and_then(|_| score(h.ord)))
        .collect();
    let blended = bubble_rank::blend(&bm25, &rank, weight);
    let mut order: Vec<(f32, u32)> = blended
        .into_iter()
        .zip(&resp.hits)
        .map(|(s, h)| (s, h.ord))
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    order.into_iter().map(|(_, o)| o).collect()
}

/// PostgreSQL's own full-text ranking (`ts_rank_cd`) in BM25's place, on
/// the same store: what the store's text scoring would be without BM25.
fn ts_rank_cd_mode(
    data: &SciFact,
    store: &bubble_postgres::Store,
    opts: &RetrievalEvalOptions,
) -> Result<ModeResult, EvalError> {
    let reader = store.reader()?;
    let empty = BTreeMap::new();
    let (mut ndcg, mut recall, mut latency) = (Vec::new(), Vec::new(), Vec::new());
    for q in &data.queries {
        let started = std::time::Instant::now();
        let hits = reader.ts_rank_cd(&q.text, opts.depth)?;
        latency.push(started.elapsed().as_secs_f64() * 1e3);
        let ranked = ranked_records(&reader, hits.iter().map(|h| h.0));
        let rels = data.qrels.0.get(&q.id).unwrap_or(&empty);
        ndcg.push(ndcg_at_k(&ranked, rels, 10));
        recall.push(recall_at_k(&ranked, rels, 100));
    }
    Ok(ModeResult {
        name: "ts_rank_cd (PostgreSQL full text, in BM25's place)".into(),
        ndcg_at_10: mean(&ndcg),
        recall_at_100: mean(&recall),
        p50_ms: percentile(&latency, 50.0),
        p99_ms: percentile(&latency, 99.0),
        embed_p50_ms: 0.0,
    })
}

/// The records of `ords` in order, each once: a document ranks where its
/// best span ranks.
fn ranked_records(
    corpus: &dyn bubble_index::Corpus,
    ords: impl Iterator<Item = u32>,
) -> Vec<String> {
    let mut ranked: Vec<String> = Vec::new();
    for ord in ords {
        let record = corpus
            .doc_of(ord)
            .and_then(|d| d.metadata.get("record").cloned())
            .unwrap_or_default();
        if !ranked.contains(&record) {
            ranked.push(record);
        }
    }
    ranked
}

fn run_mode(
    data: &SciFact,
    source: &crate::source::Source,
    embedder: Option<&Embedder>,
    mode: Mode,
    fusion: Option<Fusion>,
    rerank: Option<(&bubble_rank::Ranker, f32)>,
    opts: &RetrievalEvalOptions,
) -> Result<ModeResult, EvalError> {
    let (mut ndcg, mut recall, mut latency, mut embed) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let empty = BTreeMap::new();
    for q in &data.queries {
        let mut req = SearchRequest::new(q.text.clone());
        req.mode = mode;
        req.k = opts.depth;
        req.depth = opts.depth;
        req.ef = opts.ef;
        if let Some(f) = fusion {
            req.fusion = f;
        }
        let started = std::time::Instant::now();
        let (ranked, embed_ms, ms) = source.with(|corpus| {
            let retriever = Retriever::new(corpus, embedder);
            let resp = retriever.search(&req)?;
            let ords: Vec<u32> = match rerank {
                Some((ranker, weight)) => reranked(&retriever, &resp, ranker, weight),
                None => resp.hits.iter().map(|h| h.ord).collect(),
            };
            let ms = started.elapsed().as_secs_f64() * 1e3;
            Ok((ranked_records(corpus, ords.into_iter()), resp.embed_ms, ms))
        })?;
        latency.push(ms);
        embed.push(embed_ms);
        let rels = data.qrels.0.get(&q.id).unwrap_or(&empty);
        ndcg.push(ndcg_at_k(&ranked, rels, 10));
        recall.push(recall_at_k(&ranked, rels, 100));
    }
    let name = match fusion {
        _ if rerank.is_some() => format!(
            "rerank (weighted hybrid top {}, ranker weight {})",
            opts.depth,
            rerank.map_or(0.0, |r| r.1)
        ),
        Some(Fusion::Rrf { .. }) => "hybrid-rrf".to_string(),
        Some(Fusion::Weighted { dense_weight }) => format!("hybrid-weighted(w={dense_weight})"),
        None => mode.as_str().to_string(),
    };
    Ok(ModeResult {
        name,
        ndcg_at_10: mean(&ndcg),
        recall_at_100: mean(&recall),
        p50_ms: percentile(&latency, 50.0),
        p99_ms: percentile(&latency, 99.0),
        embed_p50_ms: percentile(&embed, 50.0),
    })
}

/// Writes a benchmark's corpus (`write` gets the path) into `work_dir` and
/// indexes it there, reusing the index of an earlier run when the corpus is
/// unchanged; the index and the figures of the build that made it.
pub(crate) fn corpus_index(
    work_dir: &Path,
    write: impl FnOnce(&Path) -> Result<(), EvalError>,
    embedder: Option<&Embedder>,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Index, IndexingStats), EvalError> {
    let corpus = work_dir.join("corpus.jsonl");
    write(&corpus)?;
    folder_index(work_dir, &corpus, embedder, progress)
}

/// Indexes `corpus` (a file or folder) into `work_dir`, reusing the index of
/// an earlier run when nothing changed; the index and its build's figures.
pub(crate) fn folder_index(
    work_dir: &Path,
    corpus: &Path,
    embedder: Option<&Embedder>,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Index, IndexingStats), EvalError> {
    let index_dir = work_dir.join("index");
    let report = build(
        &index_dir,
        &[corpus.to_path_buf()],
        &BuildOptions::default(),
        embedder,
        progress,
    )?;
    let indexing = indexing_stats(work_dir, "index", &report)?;
    Ok((Index::open(&index_dir)?, indexing))
}

/// Stats of the build that made the store (`index` or `postgres`): this
/// run's if it built, else the saved ones.
pub(crate) fn indexing_stats(
    work_dir: &Path,
    store: &str,
    report: &BuildReport,
) -> Result<IndexingStats, EvalError> {
    let path = work_dir.join(report_file(store));
    if !report.committed {
        if let Ok(bytes) = std::fs::read(&path) {
            if let Ok(mut saved) = serde_json::from_slice::<IndexingStats>(&bytes) {
                saved.built_now = false;
                return Ok(saved);
            }
        }
    }
    let counts = report
        .manifest
        .as_ref()
        .map(|m| m.counts.clone())
        .unwrap_or_default();
    let stats = IndexingStats {
        documents: counts.documents,
        spans: counts.spans,
        embedded: report.embedded,
        seconds: report.total_seconds,
        embed_seconds: report.embed_seconds,
        embed_share: if report.total_seconds > 0.0 {
            report.embed_seconds / report.total_seconds
        } else {
            0.0
        },
        spans_per_second: if report.total_seconds > 0.0 {
            counts.spans as f64 / report.total_seconds
        } else {
            0.0
        },
        built_now: report.committed,
    };
    if report.committed {
        let json = serde_json::to_vec_pretty(&stats).map_err(|source| EvalError::Json {
            path: path.clone(),
            source,
        })?;
        std::fs::write(&path, json).map_err(|source| EvalError::Io {
            path: path.clone(),
            source,
        })?;
    }
    Ok(stats)
}
