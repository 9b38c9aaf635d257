//! Running one search: channels, fusion, hits with provenance.

use crate::filter::SpanFilter;
use crate::fusion::{fuse, Fusion};
use crate::RetrievalError;
use bubble_index::bubble_ingest::SpanKind;
use bubble_index::{Corpus, Embedder, IndexError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::ops::Range;
use std::time::Instant;

/// Which channels to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// BM25 only.
    Bm25,
    /// Dense (embedding) only.
    Dense,
    /// Both, fused.
    #[default]
    Hybrid,
}

impl Mode {
    /// Parses "bm25", "dense" or "hybrid".
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "bm25" => Some(Mode::Bm25),
            "dense" => Some(Mode::Dense),
            "hybrid" => Some(Mode::Hybrid),
            _ => None,
        }
    }

    /// The mode's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Bm25 => "bm25",
            Mode::Dense => "dense",
            Mode::Hybrid => "hybrid",
        }
    }
}

/// A search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRequest {
    /// The query text.
    pub query: String,
    /// Channels to use.
    pub mode: Mode,
    /// Hits to return.
    pub k: usize,
    /// Candidates taken from each channel before fusion (at least `k`).
    pub depth: usize,
    /// HNSW search breadth.
    pub ef: usize,
    /// How channels are fused in hybrid mode.
    pub fusion: Fusion,
    /// Which spans may be returned.
    pub filter: SpanFilter,
}

impl SearchRequest {
    /// A hybrid search for `query` with the defaults (k 10, depth 100, ef 128, RRF k=60).
    pub fn new(query: impl Into<String>) -> SearchRequest {
        SearchRequest {
            query: query.into(),
            mode: Mode::Hybrid,
            k: 10,
            depth: 100,
            ef: 128,
            fusion: Fusion::default(),
            filter: SpanFilter::default(),
        }
    }
}

/// A channel's opinion of a hit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChannelScore {
    /// 1-based position in the channel's result list.
    pub position: u32,
    /// The channel's raw score (BM25 score, or cosine).
    pub score: f32,
}

/// One retrieved span, with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The span's position in the index's store.
    pub ord: u32,
    /// Stable span id.
    pub span_id: String,
    /// Document id.
    pub doc_id: String,
    /// Source path.
    pub source: String,
    /// Document title.
    pub title: String,
    /// Span kind.
    pub kind: SpanKind,
    /// Enclosing headings.
    pub heading_path: Vec<String>,
    /// The span text.
    pub text: String,
    /// Byte range in the source.
    pub byte_range: Range<usize>,
    /// 1-based line range in the source.
    pub line_range: (u32, u32),
    /// Tokens of the text.
    pub tokens: u32,
    /// BM25 rank and score, if the channel found it.
    pub bm25: Option<ChannelScore>,
    /// Dense rank and cosine, if the channel found it.
    pub dense: Option<ChannelScore>,
    /// The final score the hits are ordered by.
    pub score: f32,
}

/// Hits and what the search had to say about how it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    /// Hits, best first.
    pub hits: Vec<Hit>,
    /// The mode that actually ran (hybrid falls back to BM25 without a model).
    pub mode: Mode,
    /// Notices for the caller, e.g. that dense retrieval was unavailable.
    pub notices: Vec<String>,
    /// Milliseconds spent embedding the query.
    pub embed_ms: f64,
    /// The query's vector, when dense retrieval ran (so later stages need
    /// not embed the query again).
    #[serde(skip)]
    pub query_vector: Option<Vec<f32>>,
    /// Milliseconds in all.
    pub total_ms: f64,
}

/// Searches one corpus (the embedded index or a database), with an
/// optional embedding model.
#[derive(Clone, Copy)]
pub struct Retriever<'a> {
    corpus: &'a dyn Corpus,
    embedder: Option<&'a Embedder>,
}

impl std::fmt::Debug for Retriever<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retriever")
            .field("manifest", &self.corpus.manifest().id)
            .field("embedder", &self.embedder.map(|e| e.id()))
            .finish()
    }
}

impl<'a> Retriever<'a> {
    /// A retriever over `corpus`; without `embedder` only BM25 runs.
    pub fn new(corpus: &'a dyn Corpus, embedder: Option<&'a Embedder>) -> Retriever<'a> {
        Retriever { corpus, embedder }
    }

    /// The corpus searched.
    pub fn corpus(&self) -> &'a dyn Corpus {
        self.corpus
    }

    /// The embedding model, if loaded.
    pub fn embedder(&self) -> Option<&'a Embedder> {
        self.embedder
    }

    /// Why dense retrieval cannot run, if it cannot.
    pub fn dense_unavailable(&self) -> Option<String> {
        match self.embedder {
            None => Some("no embedding model loaded (run scripts/setup or pass --models)".into()),
            Some(e) => self.corpus.check_model(e).err().map(|e| e.to_string()),
        }
    }

    /// Runs a search.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse, RetrievalError> {
        crate::limits::check(req)?;
        let started = Instant::now();
        let mut notices = Vec::new();
        let mut mode = req.mode;
        if mode != Mode::Bm25 {
            if let Some(why) = self.dense_unavailable() {
                if mode == Mode::Dense {
                    return Err(RetrievalError::Unavailable(format!(
                        "dense retrieval unavailable: {why}"
                    )));
                }
                notices.push(format!("BM25 only: {why}"));
                mode = Mode::Bm25;
            }
        }
        let restriction = self.corpus.restrict(&req.filter)?;
        let depth = req.depth.max(req.k);
        let embedder = match (mode, self.embedder) {
            (Mode::Bm25, _) => None,
            (_, Some(e)) if self.corpus.has_vectors() => Some(e),
            _ => None,
        };
        let lexical = || match mode {
            Mode::Dense => Ok(Vec::new()),
            _ => self.corpus.bm25(&req.query, depth, &restriction),
        };
        // The channels run side by side: BM25 while the query is embedded
        // (on a database store, its query overlaps the model's work).
        let (bm25, dense) = std::thread::scope(|s| {
            let bm25 = match (mode, embedder) {
                (Mode::Hybrid, Some(_)) => Some(s.spawn(lexical)),
                _ => None,
            };
            let dense = embedder
                .map(|e| -> Result<_, RetrievalError> {
                    let t = Instant::now();
                    let q = e.embed_query(&req.query)?;
                    let embed_ms = t.elapsed().as_secs_f64() * 1e3;
                    let found = self.corpus.dense(&q, depth, req.ef, &restriction)?;
                    Ok((found, q, embed_ms))
                })
                .transpose();
            let bm25 = match bm25 {
                Some(handle) => handle
                    .join()
                    .unwrap_or_else(|_| Err(IndexError::Store("the BM25 search panicked".into()))),
                None => lexical(),
            };
            (bm25, dense)
        });
        let bm25 = bm25?;
        let (dense, query_vector, embed_ms) = match dense? {
            Some((found, q, ms)) => (found, Some(q), ms),
            None => (Vec::new(), None, 0.0),
        };
        let ranked: Vec<(u32, f32)> = match mode {
            Mode::Bm25 => bm25.clone(),
            Mode::Dense => dense.clone(),
            Mode::Hybrid => fuse(req.fusion, &[&bm25, &dense]),
        };
        let ranks = |list: &[(u32, f32)]| -> HashMap<u32, ChannelScore> {
            list.iter()
                .enumerate()
                .map(|(i, (o, s))| {
                    (
                        *o,
                        ChannelScore {
                            position: i as u32 + 1,
                            score: *s,
                        },
                    )
                })
                .collect()
        };
        let (bm25_ranks, dense_ranks) = (ranks(&bm25), ranks(&dense));
        let shown: Vec<u32> = ranked.iter().take(req.k).map(|h| h.0).collect();
        self.corpus.prefetch(&shown);
        let hits = ranked
            .into_iter()
            .take(req.k)
            .filter_map(|(ord, score)| {
                self.hit(ord, score, bm25_ranks.get(&ord), dense_ranks.get(&ord))
            })
            .collect();
        // A lookup that met a damaged block read it as absent: fail the
        // search rather than answer without it.
        self.corpus.damage()?;
        Ok(SearchResponse {
            hits,
            mode,
            notices,
            embed_ms,
            query_vector,
            total_ms: started.elapsed().as_secs_f64() * 1e3,
        })
    }

    /// The hit for span `ord` with the given scores (a span found by
    /// structure rather than by a channel has neither channel score).
    pub fn hit(
        &self,
        ord: u32,
        score: f32,
        bm25: Option<&ChannelScore>,
        dense: Option<&ChannelScore>,
    ) -> Option<Hit> {
        let span = self.corpus.span(ord)?;
        let doc = self.corpus.doc_of(ord)?;
        Some(Hit {
            ord,
            span_id: span.id.0.clone(),
            doc_id: doc.id.clone(),
            source: doc.source.clone(),
            title: doc.title.clone(),
            kind: span.kind,
            heading_path: span.heading_path.clone(),
            text: span.text.clone(),
            byte_range: span.byte_range.clone(),
            line_range: span.line_range,
            tokens: span.tokens,
            bm25: bm25.copied(),
            dense: dense.copied(),
            score,
        })
    }
}
