//! The bubble operator: a greedy pass that admits candidates through gates.
//!
//! Two modes. `paper` is the published method: score = (tf + prior) ×
//! 1/(1 + t/θ), then greedy with the global budget, a per-section budget
//! with a slack pool, and a lexical redundancy gate. `default` is ours: it
//! re-scores the remaining candidates after every admission by retrieval
//! relevance plus the query terms a span would newly cover, a
//! cross-reference from the bubble (`links`), a bonus for a section the
//! bubble lacks and, optionally, facet gain, against a similarity ceiling,
//! with per-document and per-section caps; it brings a chosen row's table
//! header along, takes a small relevant table whole, and folds a duplicate
//! of a selected span (the same content in another file or format) into it.

mod duplicates;
mod features;
mod gates;
mod links;
mod modes;
mod sections;
mod tables;
mod whole;

use crate::operator::Operator;
use crate::state::{Context, QueryState};
use crate::AssemblyError;
use bubble_index::bubble_ingest::SpanKind;
use features::{score_static, Features};
use gates::Gates;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BubbleMode {
    /// The published method, exactly.
    Paper,
    /// Coverage, embedding redundancy, caps and structural expansion.
    #[default]
    Default,
    /// The baseline: retrieval order, the global budget as the only gate.
    TopK,
    /// Maximal marginal relevance: λ·relevance − (1−λ)·max similarity to
    /// the selection, the global budget as the only gate.
    Mmr,
}

/// Parameters of the bubble operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BubbleParams {
    /// The method.
    pub mode: BubbleMode,
    /// Paper mode's redundancy gate: word overlap with the bubble at or
    /// above which a candidate is too redundant (δ).
    pub delta: f32,
    /// Default mode's redundancy gate: similarity (cosine of stored
    /// vectors) to a selected span at or above which a candidate is too redundant.
    pub max_similarity: f32,
    /// The same ceiling for two blocks of one section: they are read in one
    /// encoder window, which lifts their cosines (adjacent blocks of the
    /// Node.js manual: 0.76 read alone, 0.90 read together), so their
    /// cosine is scaled by `max_similarity / section_similarity` first.
    pub section_similarity: f32,
    /// Default mode's penalty per unit of similarity to the selection.
    pub redundancy_weight: f32,
    /// Share of the budget one section may take (ρ_s, the same for all).
    pub section_share: f32,
    /// Length-penalty scale θ in tokens; `None`: the median candidate length.
    pub theta: Option<f32>,
    /// Boosts by heading substring (the paper's π(s)), lowercase match.
    pub section_boosts: BTreeMap<String, f32>,
    /// Boosts by keyword present in the text (the paper's γ_k).
    pub keyword_boosts: BTreeMap<String, f32>,
    /// Boosts by span kind (default mode), e.g. `{"row": 0.2}`.
    pub kind_boosts: BTreeMap<String, f32>,
    /// Most spans from one document (default mode).
    pub max_per_doc: usize,
    /// Weight of coverage gain (default mode).
    pub coverage_weight: f32,
    /// Bonus for a span whose document title a selected span mentions: the
    /// cross-reference a reader would follow next (default mode; the
    /// bridge entity of a multi-hop question).
    pub link_weight: f32,
    /// Bonus for a span from a section the bubble does not reach yet
    /// (default mode): the second and third facet of a question tend to
    /// live in other sections than the first. It counts toward the
    /// relevance floor too, so a new section's span needs less relevance.
    pub section_weight: f32,
    /// Weight of facet gain (default mode): how much closer a span comes to
    /// each facet of a compound question than anything in the bubble (needs
    /// a `retrieve` with `facets`, which embeds them). It counts toward the
    /// relevance floor too.
    pub facet_weight: f32,
    /// Bonus for a table row whose key the query names (default mode): "the
    /// Business plan" names the Business row of every table, which BM25 and
    /// a sentence encoder rank below prose that repeats the question's words.
    /// It counts toward the relevance floor too.
    pub named_row_weight: f32,
    /// Candidates scoring below this (relative to the best) are low relevance.
    pub min_relevance: f32,
    /// MMR's trade-off between relevance and novelty.
    pub lambda: f32,
    /// The bubble is built for this many times the request's budget: room
    /// for a `compress` step after it to choose from (1: the budget itself).
    pub budget_factor: f32,
    /// A selected row's whole table comes in when it costs at most this
    /// share of the budget and fits what is left (default mode; 0: never).
    pub whole_table_share: f32,
    /// A selected block's whole section (its other paragraphs, lists and
    /// code) comes in when it costs at most this share of the budget, fits
    /// what is left, and another of its blocks is a candidate at
    /// `section_spread` of the best relevance (default mode; 0: never).
    pub whole_section_share: f32,
    /// See `whole_section_share`.
    pub section_spread: f32,
    /// Fold duplicates of selected spans into them (default mode).
    pub fold_duplicates: bool,
    /// Cosine of stored vectors at or above which two spans (not rows,
    /// which compare by values) are duplicates.
    pub duplicate_cosine: f32,
}

impl Default for BubbleParams {
    fn default() -> Self {
        BubbleParams {
            mode: BubbleMode::Default,
            delta: 0.5,
            max_similarity: 0.9,
            // 0.9 rejected most of a section's other blocks as redundant;
            // chosen on eval docs' train split.
            section_similarity: 0.95,
            redundancy_weight: 0.0,
            section_share: 0.5,
            theta: None,
            section_boosts: BTreeMap::new(),
            keyword_boosts: BTreeMap::new(),
            kind_boosts: BTreeMap::new(),
            max_per_doc: 12,
            coverage_weight: 1.0,
            link_weight: 0.5,
            section_weight: 0.1,
            facet_weight: 0.0,
            named_row_weight: 0.5,
            min_relevance: 0.05,
            lambda: 0.5,
            budget_factor: 1.0,
            whole_table_share: 0.3,
            whole_section_share: 0.5,
            section_spread: 0.5,
            fold_duplicates: true,
            duplicate_cosine: 0.97,
        }
    }
}

/// The bubble operator.
#[derive(Debug, Clone)]
pub struct Bubble {
    params: BubbleParams,
}

impl Bubble {
    /// A bubble operator with these parameters.
    pub fn new(params: BubbleParams) -> Result<Bubble, String> {
        let p = &params;
        if !(0.0..=1.0).contains(&p.max_similarity)
            || p.section_similarity <= 0.0
            || p.section_similarity > 1.0
            || p.redundancy_weight < 0.0
            || p.link_weight < 0.0
            || p.section_weight < 0.0
            || p.facet_weight < 0.0
            || p.named_row_weight < 0.0
        {
            return Err(
                "max_similarity must be in 0..=1, section_similarity in (0, 1]; redundancy_weight and the link, section, facet and named-row weights non-negative"
                    .into(),
            );
        }
        if !(0.0..=1.0).contains(&p.delta)
            || !(0.0..=1.0).contains(&p.section_share)
            || p.section_share == 0.0
        {
            return Err("delta must be in 0..=1 and section_share in (0, 1]".into());
        }
        if !(0.0..=1.0).contains(&p.whole_table_share) || !(0.0..=1.0).contains(&p.duplicate_cosine)
        {
            return Err("whole_table_share and duplicate_cosine must be in 0..=1".into());
        }
        if !(1.0..=16.0).contains(&p.budget_factor) {
            return Err("budget_factor must be in 1..=16".into());
        }
        if p.theta.is_some_and(|t| t <= 0.0) {
            return Err("theta must be positive".into());
        }
        for k in p.kind_boosts.keys() {
            if SpanKind::parse(k).is_none() {
                return Err(format!("unknown span kind {k:?} in kind_boosts"));
            }
        }
        Ok(Bubble { params })
    }
}

impl Operator for Bubble {
    fn name(&self) -> &str {
        "bubble"
    }

    fn run(&self, ctx: &Context<'_>, state: &mut QueryState) -> Result<String, AssemblyError> {
        // Every gate reads the state's budget: widen it for this pass only.
        let request_budget = state.budget;
        state.budget = (request_budget as f64 * f64::from(self.params.budget_factor)) as usize;
        let note = self.select(ctx, state);
        state.budget = request_budget;
        Ok(note)
    }
}

impl Bubble {
    fn select(&self, ctx: &Context<'_>, state: &mut QueryState) -> String {
        state.reset_decisions();
        let features = Features::new(ctx, state);
        score_static(&self.params, ctx, state, &features);
        let mut gates = Gates::new(&self.params, state);
        match self.params.mode {
            BubbleMode::Paper => modes::paper(&self.params, ctx, state, &mut gates, &features),
            BubbleMode::Default => {
                modes::default_mode(&self.params, ctx, state, &mut gates, &features)
            }
            BubbleMode::TopK => modes::top_k(ctx, state),
            BubbleMode::Mmr => modes::mmr(self.params.lambda, ctx, state, &features),
        }
        format!(
            "{:?} mode: {} of {} candidates selected for {} tokens ({} counted through the gates), {} section(s), slack pool {} tokens left",
            self.params.mode,
            state.selected.len(),
            state.candidates.len(),
            state.budget,
            gates.used(),
            gates.sections_used(),
            gates.slack
        )
    }
}
