//! A candidate span and everything the trace says about it.

use bubble_index::bubble_ingest::SpanKind;
use bubble_retrieval::{ChannelScore, Hit};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Every score a candidate collects on its way through the pipeline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// BM25 rank and score, if that channel found it.
    pub bm25: Option<ChannelScore>,
    /// Dense rank and cosine, if that channel found it.
    pub dense: Option<ChannelScore>,
    /// The retrieval score (fused, or the single channel's).
    pub retrieval: f32,
    /// Query-term occurrences in the text.
    pub tf: f32,
    /// Structural and keyword prior.
    pub prior: f32,
    /// 1 / (1 + tokens / θ).
    pub length_penalty: f32,
    /// What the span adds that the bubble lacked when it was decided.
    pub coverage_gain: f32,
    /// The cross-reference bonus when it was decided: `link_weight` if a
    /// selected span of another document mentions its title, else 0.
    pub link: f32,
    /// The named-row bonus: `named_row_weight` if the span is a table row
    /// whose key (its first value: a plan, a country) the query names.
    #[serde(default)]
    pub named_row: f32,
    /// The new-section bonus when it was decided: `section_weight` if no
    /// selected span was from its section yet, else 0.
    pub new_section: f32,
    /// Facet gain when it was decided: summed over the facets of a compound
    /// question, how much closer (relative cosine) the span comes to the
    /// facet than the closest selected span.
    pub facet_gain: f32,
    /// Overlap with the bubble when it was decided (0..1).
    pub redundancy: f32,
    /// The score the greedy pass ordered it by.
    pub final_score: f32,
    /// The ranker's score: the span as a continuation of the query.
    pub ranker: Option<f32>,
}

/// Why a candidate is in or out. The texts are fixed words except for
/// `expanded_from:<id>`: borrowing them saves two allocations per decision,
/// and a selection decides every candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Whether it is in the bubble.
    pub selected: bool,
    /// `selected`, `budget_exceeded`, `section_budget`, `too_redundant`,
    /// `low_relevance`, `cap_reached`, `compressed_out`,
    /// `expanded_from:<span id>`, `whole_table:<span id>`, `whole_section:<span id>` or
    /// `duplicate_of:<span id>`.
    pub reason: Cow<'static, str>,
    /// The operator that decided.
    pub step: Cow<'static, str>,
}

/// One span considered for the bubble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Position of the span in the index's store.
    pub ord: u32,
    /// Stable span id.
    pub span_id: String,
    /// Document id.
    pub doc_id: String,
    /// Source path.
    pub source: String,
    /// Document title.
    pub title: String,
    /// Heading path of the span.
    pub section: Vec<String>,
    /// Span kind.
    pub kind: SpanKind,
    /// Tokens of the span text.
    pub tokens: u32,
    /// Scores.
    pub scores: Scores,
    /// The decision, once made.
    pub decision: Option<Decision>,
}

impl Candidate {
    /// A candidate from a retrieval hit.
    pub fn from_hit(hit: &Hit) -> Candidate {
        Candidate {
            ord: hit.ord,
            span_id: hit.span_id.clone(),
            doc_id: hit.doc_id.clone(),
            source: hit.source.clone(),
            title: hit.title.clone(),
            section: hit.heading_path.clone(),
            kind: hit.kind,
            tokens: hit.tokens,
            scores: Scores {
                bm25: hit.bm25,
                dense: hit.dense,
                retrieval: hit.score,
                ..Scores::default()
            },
            decision: None,
        }
    }

    /// The section key budgets are counted by: document and heading path
    /// (a JSONL file holds many documents, so not the source path).
    pub fn section_key(&self) -> String {
        format!("{}#{}", self.doc_id, self.section.join(" > "))
    }

    /// Records a decision.
    pub fn decide(
        &mut self,
        selected: bool,
        reason: impl Into<Cow<'static, str>>,
        step: impl Into<Cow<'static, str>>,
    ) {
        self.decision = Some(Decision {
            selected,
            reason: reason.into(),
            step: step.into(),
        });
    }

    /// Whether it was selected.
    pub fn is_selected(&self) -> bool {
        self.decision.as_ref().is_some_and(|d| d.selected)
    }
}
