//! The state operators share while one request runs through a pipeline.

use crate::candidate::Candidate;
use crate::excerpt::Excerpts;
use crate::ops::compress::CompressionTrace;
use crate::render::{Duplicates, Rendered, Shown};
use bubble_index::bubble_ingest::TokenCounter;
use bubble_retrieval::{ChannelScore, Hit, Retriever};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What every operator may read: the index (through the retriever, with the
/// embedding model if loaded), the caller's tokenizer and the ranker.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Retrieval over the index.
    pub retriever: Retriever<'a>,
    /// Counts tokens in the caller's tokenizer.
    pub counter: &'a TokenCounter,
    /// The RankGen-style ranker, if its heads are loaded.
    pub ranker: Option<&'a bubble_rank::Ranker>,
}

/// One operator run, as the trace reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpRecord {
    /// Operator name.
    pub op: String,
    /// Candidates before it ran.
    pub candidates_in: usize,
    /// Candidates after it ran.
    pub candidates_out: usize,
    /// Selected spans after it ran.
    pub selected_out: usize,
    /// What it did, in its own words (queries issued, a branch chosen...).
    pub note: String,
    /// Milliseconds it took (the only non-deterministic field).
    pub ms: f64,
}

/// The shared state of one request.
#[derive(Debug, Clone, Default)]
pub struct QueryState {
    /// The query.
    pub query: String,
    /// Token budget of the rendered output.
    pub budget: usize,
    /// The caller asked to fill the budget: no relevance floor.
    pub fill: bool,
    /// The request's own restriction of what retrieval may return.
    pub filter: bubble_retrieval::SpanFilter,
    /// Every span considered, in order of first appearance.
    pub candidates: Vec<Candidate>,
    /// Indices into `candidates` of the bubble, in selection order.
    pub selected: Vec<usize>,
    /// Notices for the caller (BM25 only, a branch failing...).
    pub notices: Vec<String>,
    /// Operator runs, in order.
    pub ops: Vec<OpRecord>,
    /// The rendered bubble, once rendered.
    pub rendered: Option<Rendered>,
    /// The units shown of each compressed span (by ord); a selected span
    /// without one is shown whole.
    pub excerpts: Excerpts,
    /// Spans folded into a selected span as duplicates of it (by ord).
    pub duplicates: Duplicates,
    /// What the last `compress` decided, for the trace.
    pub compression: Option<CompressionTrace>,
    /// The query's vector, once a dense retrieval of the query computed it.
    pub query_vector: Option<Vec<f32>>,
    /// Each facet of a compound question with its vector, once a `retrieve`
    /// with `facets` searched them densely: the bubble's facet coverage.
    pub facet_vectors: Vec<(String, Vec<f32>)>,
    by_ord: HashMap<u32, usize>,
}

impl QueryState {
    /// A fresh state for `query` under `budget` tokens.
    pub fn new(query: impl Into<String>, budget: usize) -> QueryState {
        QueryState {
            query: query.into(),
            budget,
            ..QueryState::default()
        }
    }

    /// Adds hits as candidates; a span already present keeps its first
    /// record but gains any channel score it lacked. Returns how many were new.
    pub fn add_hits(&mut self, hits: &[Hit]) -> usize {
        let mut added = 0;
        for h in hits {
            match self.by_ord.get(&h.ord) {
                Some(&i) => {
                    let s = &mut self.candidates[i].scores;
                    s.bm25 = s.bm25.or(h.bm25);
                    s.dense = s.dense.or(h.dense);
                    s.retrieval = s.retrieval.max(h.score);
                }
                None => {
                    self.by_ord.insert(h.ord, self.candidates.len());
                    self.candidates.push(Candidate::from_hit(h));
                    added += 1;
                }
            }
        }
        added
    }

    /// Adds hits keeping, for a span already in the pool, the best of each
    /// channel (highest score, lowest rank): for hits of several queries
    /// whose channel scores share a scale.
    pub fn merge_best_hits(&mut self, hits: &[Hit]) -> usize {
        let before = self.candidates.len();
        for h in hits {
            match self.by_ord.get(&h.ord) {
                Some(&i) => {
                    let s = &mut self.candidates[i].scores;
                    s.bm25 = best_channel(s.bm25, h.bm25);
                    s.dense = best_channel(s.dense, h.dense);
                    s.retrieval = s.retrieval.max(h.score);
                }
                None => {
                    self.add_hits(std::slice::from_ref(h));
                }
            }
        }
        self.candidates.len() - before
    }

    /// The candidate index of a span ord.
    pub fn index_of(&self, ord: u32) -> Option<usize> {
        self.by_ord.get(&ord).copied()
    }

    /// Adds one candidate (a structural neighbour); returns its index.
    pub fn add_candidate(&mut self, c: Candidate) -> usize {
        if let Some(&i) = self.by_ord.get(&c.ord) {
            return i;
        }
        self.by_ord.insert(c.ord, self.candidates.len());
        self.candidates.push(c);
        self.candidates.len() - 1
    }

    /// Replaces the candidate pool (clearing decisions and the selection).
    pub fn set_candidates(&mut self, candidates: Vec<Candidate>) {
        self.selected.clear();
        self.rendered = None;
        self.excerpts.clear();
        self.duplicates.clear();
        self.by_ord = candidates
            .iter()
            .enumerate()
            .map(|(i, c)| (c.ord, i))
            .collect();
        self.candidates = candidates;
    }

    /// What the bubble shows now.
    pub fn shown(&self) -> Shown<'_> {
        Shown {
            candidates: &self.candidates,
            selected: &self.selected,
            excerpts: &self.excerpts,
            duplicates: &self.duplicates,
        }
    }

    /// Tokens of the selected spans' texts.
    pub fn selected_tokens(&self) -> u64 {
        self.selected
            .iter()
            .map(|&i| u64::from(self.candidates[i].tokens))
            .sum()
    }

    /// Clears every decision, so a later operator can decide afresh.
    pub fn reset_decisions(&mut self) {
        self.selected.clear();
        self.rendered = None;
        self.excerpts.clear();
        self.duplicates.clear();
        for c in &mut self.candidates {
            c.decision = None;
        }
    }
}

/// The better of two records of one channel: the higher score, the earlier position.
pub(crate) fn best_channel(
    a: Option<ChannelScore>,
    b: Option<ChannelScore>,
) -> Option<ChannelScore> {
    match (a, b) {
        (Some(a), Some(b)) => Some(ChannelScore {
            position: a.position.min(b.position),
            score: a.score.max(b.score),
        }),
        (a, b) => a.or(b),
    }
}
