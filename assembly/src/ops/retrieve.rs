//! `retrieve`, `fuse` and `expand`: filling the candidate pool.

use crate::candidate::Candidate;
use crate::operator::Operator;
use crate::state::{Context, QueryState};
use crate::text::facets;
use crate::AssemblyError;
use bubble_index::bubble_ingest::SpanKind;
use bubble_retrieval::{neighbours, Fusion, Hit, Mode, SearchRequest, SpanFilter};
use serde::{Deserialize, Serialize};

/// Which query a `retrieve` step sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuerySource {
    /// The request's query.
    #[default]
    Original,
    /// The query plus the titles of the documents already selected: the
    /// bridge entities a multi-hop question needs for its second hop.
    Expanded,
}

/// Parameters of `retrieve`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrieveParams {
    /// Channels.
    pub mode: Mode,
    /// Candidates to take.
    pub depth: usize,
    /// HNSW breadth.
    pub ef: usize,
    /// Span kinds to retrieve (all retrievable kinds if empty).
    pub kinds: Vec<String>,
    /// Path globs.
    pub paths: Vec<String>,
    /// Which query to send.
    pub query: QuerySource,
    /// Also search each facet of a compound question (clauses joined by
    /// "and", `;`, `?`) and keep every span's best channel scores, so the
    /// second facet is not crowded out by the first.
    pub facets: bool,
}

impl Default for RetrieveParams {
    fn default() -> Self {
        RetrieveParams {
            mode: Mode::Hybrid,
            depth: 100,
            ef: 128,
            kinds: Vec::new(),
            paths: Vec::new(),
            query: QuerySource::Original,
            facets: false,
        }
    }
}

/// Adds retrieval hits to the candidate pool.
#[derive(Debug, Clone)]
pub struct Retrieve {
    params: RetrieveParams,
    kinds: Vec<SpanKind>,
}

impl Retrieve {
    /// Validates the parameters.
    pub fn new(params: RetrieveParams) -> Result<Retrieve, String> {
        let kinds = params
            .kinds
            .iter()
            .map(|k| SpanKind::parse(k).ok_or_else(|| format!("unknown span kind {k:?}")))
            .collect::<Result<Vec<_>, _>>()?;
        if params.depth == 0 {
            return Err("depth must be at least 1".into());
        }
        Ok(Retrieve { params, kinds })
    }

    /// A search for `query` with this step's channels, depth and filters.
    fn request(&self, query: &str) -> SearchRequest {
        let mut req = SearchRequest::new(query.to_string());
        req.mode = self.params.mode;
        req.k = self.params.depth;
        req.depth = self.params.depth;
        req.ef = self.params.ef;
        req.filter = SpanFilter {
            paths: self.params.paths.clone(),
            kinds: self.kinds.clone(),
        };
        req
    }
}

impl Operator for Retrieve {
    fn name(&self) -> &str {
        "retrieve"
    }

    fn run(&self, ctx: &Context<'_>, state: &mut QueryState) -> Result<String, AssemblyError> {
        let query = match self.params.query {
            QuerySource::Original => state.query.clone(),
            QuerySource::Expanded => {
                let mut q = state.query.clone();
                let mut titles: Vec<&str> = Vec::new();
                for &i in &state.selected {
                    let t = state.candidates[i].title.as_str();
                    if !titles.contains(&t) {
                        titles.push(t);
                    }
                }
                for t in titles {
                    q.push(' ');
                    q.push_str(t);
                }
                q
            }
        };
        let facets = if self.params.facets {
            facets(&query)
        } else {
            Vec::new()
        };
        let mut resp = ctx.retriever.search(&self.request(&query))?;
        if query == state.query && state.query_vector.is_none() {
            state.query_vector = resp.query_vector.take();
        }
        let mode = resp.mode;
        let mut responses = vec![resp];
        for f in &facets {
            responses.push(ctx.retriever.search(&self.request(f))?);
        }
        let mut hits = 0;
        let mut added = 0;
        for r in &mut responses {
            hits += r.hits.len();
            if facets.is_empty() {
                added += state.add_hits(&r.hits);
            } else {
                // BM25 scores of different queries share no scale: each
                // query's are divided by its best; cosines already share one.
                scale_bm25(&mut r.hits);
                added += state.merge_best_hits(&r.hits);
            }
            for n in r.notices.drain(..) {
                if !state.notices.contains(&n) {
                    state.notices.push(n);
                }
            }
        }
        Ok(format!(
            "{} query {:?}{}: {} hits, {} new",
            mode.as_str(),
            query,
            if facets.is_empty() {
                String::new()
            } else {
                format!(" and its facets {facets:?}")
            },
            hits,
            added
        ))
    }
}

/// Divides every hit's BM25 score by the best one.
fn scale_bm25(hits: &mut [Hit]) {
    let best = hits
        .iter()
        .filter_map(|h| h.bm25.map(|b| b.score))
        .fold(0.0f32, f32::max);
    if best > 0.0 {
        for h in hits {
            if let Some(b) = &mut h.bm25 {
                b.score /= best;
            }
        }
    }
}

/// Re-fuses the candidates' channel scores (e.g. after several retrieves).
#[derive(Debug, Clone)]
pub struct Fuse {
    fusion: Fusion,
}

impl Fuse {
    /// A fuse step.
    pub fn new(fusion: Fusion) -> Fuse {
        Fuse { fusion }
    }
}

impl Operator for Fuse {
    fn name(&self) -> &str {
        "fuse"
    }

    fn run(&self, _ctx: &Context<'_>, state: &mut QueryState) -> Result<String, AssemblyError> {
        let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
        for c in &state.candidates {
            for (k, ch) in [c.scores.bm25, c.scores.dense].iter().enumerate() {
                if let Some(ch) = ch {
                    lo[k] = lo[k].min(ch.score);
                    hi[k] = hi[k].max(ch.score);
                }
            }
        }
        for c in &mut state.candidates {
            let channels = [c.scores.bm25, c.scores.dense];
            c.scores.retrieval = match self.fusion {
                Fusion::Rrf { k } => channels
                    .iter()
                    .flatten()
                    .map(|ch| 1.0 / (k + ch.rank as f32))
                    .sum(),
                Fusion::Weighted { dense_weight } => channels
                    .iter()
                    .enumerate()
                    .filter_map(|(i, ch)| ch.map(|ch| (i, ch)))
                    .map(|(i, ch)| {
                        let w = if i == 0 {
                            1.0 - dense_weight
                        } else {
                            dense_weight
                        };
                        let span = if hi[i] > lo[i] { hi[i] - lo[i] } else { 1.0 };
                        w * (ch.score - lo[i]) / span
                    })
                    .sum(),
            };
        }
        Ok(format!(
            "{:?} over {} candidates",
            self.fusion,
            state.candidates.len()
        ))
    }
}

/// Parameters of `expand`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExpandParams {
    /// How many of the best candidates to expand.
    pub top: usize,
    /// Add the header row of a table row.
    pub header: bool,
    /// Add the spans just before and after (same parent).
    pub siblings: bool,
}

impl Default for ExpandParams {
    fn default() -> Self {
        ExpandParams {
            top: 10,
            header: true,
            siblings: true,
        }
    }
}

/// Adds structural neighbours of the best candidates to the pool, scored
/// just below the span that brought them.
#[derive(Debug, Clone)]
pub struct Expand {
    params: ExpandParams,
}

impl Expand {
    /// An expand step.
    pub fn new(params: ExpandParams) -> Expand {
        Expand { params }
    }
}

impl Operator for Expand {
    fn name(&self) -> &str {
        "expand"
    }

    fn run(&self, ctx: &Context<'_>, state: &mut QueryState) -> Result<String, AssemblyError> {
        let store = ctx.retriever.index().store();
        let mut best: Vec<usize> = (0..state.candidates.len()).collect();
        best.sort_by(|&a, &b| {
            let (ca, cb) = (&state.candidates[a], &state.candidates[b]);
            cb.scores
                .retrieval
                .total_cmp(&ca.scores.retrieval)
                .then(ca.span_id.cmp(&cb.span_id))
        });
        best.truncate(self.params.top);
        let mut added = 0;
        for i in best {
            let (ord, score) = (
                state.candidates[i].ord,
                state.candidates[i].scores.retrieval,
            );
            let mut near: Vec<u32> = Vec::new();
            if self.params.header {
                near.extend(neighbours::table_header(store, ord));
            }
            if self.params.siblings {
                let sib = neighbours::siblings(store, ord);
                if let Some(p) = sib.iter().position(|&o| o == ord) {
                    // Content only: a sibling section is a container whose
                    // own text is its heading, which rendering adds anyway.
                    let content = |o: &u32| store.span(*o).is_some_and(|s| s.kind.is_retrievable());
                    near.extend(p.checked_sub(1).map(|q| sib[q]).filter(content));
                    near.extend(sib.get(p + 1).copied().filter(content));
                }
            }
            for o in near {
                if state.index_of(o).is_some() {
                    continue;
                }
                if let Some(hit) = hit_for(ctx, o, score * 0.9) {
                    state.add_candidate(Candidate::from_hit(&hit));
                    added += 1;
                }
            }
        }
        Ok(format!("{added} neighbours added"))
    }
}

/// A hit for a span found by structure rather than by a channel.
pub(crate) fn hit_for(ctx: &Context<'_>, ord: u32, score: f32) -> Option<Hit> {
    ctx.retriever.hit(ord, score, None, None)
}
