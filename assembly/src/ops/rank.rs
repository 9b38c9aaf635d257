//! `rank`: the RankGen-style score, used to rerank the candidate pool
//! before the bubble is chosen, or to order the bubble for the reader.

use crate::operator::Operator;
use crate::state::{Context, QueryState};
use crate::AssemblyError;
use bubble_rank::{blend, Ranker};
use serde::{Deserialize, Serialize};

/// How a `rank` step orders the bubble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// The best span (and its document) first.
    #[default]
    BestFirst,
    /// The best at both ends, the weakest in the middle, where a reader
    /// attends least.
    Ends,
}

/// Parameters of `rank`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankParams {
    /// Rerank the pool (a step before `bubble`): each candidate's retrieval
    /// score becomes the weighted fusion of its BM25 score and its ranker
    /// score, both min-max normalised over the pool, the ranker taking the
    /// dense channel's place (it scores the spans dense retrieval found;
    /// identity heads give back the fused order). Otherwise order the bubble.
    pub rerank: bool,
    /// The ranker's weight in a rerank.
    pub weight: f32,
    /// The order of the bubble (when not reranking).
    pub order: Order,
}

impl Default for RankParams {
    fn default() -> Self {
        RankParams {
            rerank: false,
            weight: 0.5,
            order: Order::BestFirst,
        }
    }
}

/// The ranker's scores: the query as a prefix (projected once by the
/// ranker's heads, or taken as it is without them), each span's stored
/// vector as a continuation (never re-embedded), score = dot product.
/// Without vectors the order stands, and the note says so.
#[derive(Debug, Clone)]
pub struct Rank {
    params: RankParams,
}

impl Rank {
    /// Validates the parameters.
    pub fn new(params: RankParams) -> Result<Rank, String> {
        if !(0.0..=1.0).contains(&params.weight) {
            return Err("weight must be in 0..=1".into());
        }
        Ok(Rank { params })
    }
}

impl Operator for Rank {
    fn name(&self) -> &str {
        "rank"
    }

    fn run(&self, ctx: &Context<'_>, state: &mut QueryState) -> Result<String, AssemblyError> {
        let vectors = ctx.retriever.corpus();
        let Some(embedder) = ctx.retriever.embedder().filter(|_| vectors.has_vectors()) else {
            return Ok("no embedding model: order kept".into());
        };
        if ctx.retriever.dense_unavailable().is_some() {
            return Ok("index and model disagree: order kept".into());
        }
        // Reuse the vector retrieval computed; embed only if none ran.
        let q = match state.query_vector.take() {
            Some(q) => q,
            None => embedder
                .embed_query(&state.query)
                .map_err(|e| AssemblyError::Request(e.to_string()))?,
        };
        let (prefix, heads) = match ctx.ranker.and_then(|r| r.prefix(&q)) {
            Some(p) => (p, "trained heads"),
            None => (q.clone(), "no trained heads: the cosine"),
        };
        state.query_vector = Some(q);
        let targets: Vec<usize> = if self.params.rerank {
            (0..state.candidates.len()).collect()
        } else {
            state.selected.clone()
        };
        for i in targets {
            let c = &mut state.candidates[i];
            // A rerank rescores what dense retrieval found, in the dense
            // channel's place: a span only BM25 found keeps no dense
            // score, as in the fusion (scoring it too loses the fusion's
            // reward for being found by both: 2.6 points on eval docs).
            c.scores.ranker = if self.params.rerank && c.scores.dense.is_none() {
                None
            } else {
                vectors.vector(c.ord).map(|v| Ranker::score(&prefix, &v))
            };
        }
        if self.params.rerank {
            rerank(state, self.params.weight);
            return Ok(format!(
                "{} candidates reranked ({heads}, weight {})",
                state.candidates.len(),
                self.params.weight
            ));
        }
        order(state, self.params.order);
        Ok(format!(
            "{} spans ordered as continuations of the query ({heads})",
            state.selected.len()
        ))
    }
}

/// Retrieval = (1 − w) · BM25 + w · ranker, over the pool.
fn rerank(state: &mut QueryState, weight: f32) {
    let bm25: Vec<Option<f32>> = state
        .candidates
        .iter()
        .map(|c| c.scores.bm25.map(|b| b.score))
        .collect();
    let ranker: Vec<Option<f32>> = state.candidates.iter().map(|c| c.scores.ranker).collect();
    for (c, s) in state
        .candidates
        .iter_mut()
        .zip(blend(&bm25, &ranker, weight))
    {
        c.scores.retrieval = s;
    }
}

/// Orders the bubble by ranker score (ties by span id).
fn order(state: &mut QueryState, order: Order) {
    let cands = &state.candidates;
    state.selected.sort_by(|&a, &b| {
        let (ra, rb) = (
            cands[a].scores.ranker.unwrap_or(f32::MIN),
            cands[b].scores.ranker.unwrap_or(f32::MIN),
        );
        rb.total_cmp(&ra)
            .then(cands[a].span_id.cmp(&cands[b].span_id))
    });
    if order == Order::Ends {
        // 1st, 3rd, 5th … from the front; 2nd, 4th … from the back.
        let best_first = std::mem::take(&mut state.selected);
        let (mut front, mut back) = (Vec::new(), Vec::new());
        for (k, i) in best_first.into_iter().enumerate() {
            if k % 2 == 0 {
                front.push(i);
            } else {
                back.push(i);
            }
        }
        back.reverse();
        front.extend(back);
        state.selected = front;
    }
}
