//! The bubble operator: a greedy pass that admits candidates through gates.
//!
//! Two modes. `paper` is the published method: score = (tf + prior) ×
//! 1/(1 + t/θ), then greedy with the global budget, a per-section budget
//! with a slack pool, and a lexical redundancy gate. `default` is ours: it
//! re-scores the remaining candidates after every admission by retrieval
//! relevance plus the query terms a span would newly cover, minus its
//! embedding similarity to what is already in, with per-document and
//! per-section caps, and brings a chosen row's table header along.

use crate::candidate::Candidate;
use crate::operator::Operator;
use crate::ops::retrieve::hit_for;
use crate::render::marginal_cost;
use crate::state::{Context, QueryState};
use crate::text::{overlap, query_terms, term_count, word_set};
use crate::AssemblyError;
use bubble_index::bubble_ingest::SpanKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

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
}

/// Parameters of the bubble operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BubbleParams {
    /// The method.
    pub mode: BubbleMode,
    /// Redundancy threshold: lexical overlap (paper) or cosine (default) at
    /// or above which a candidate is too redundant.
    pub delta: f32,
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
    /// Candidates scoring below this (relative to the best) are low relevance.
    pub min_relevance: f32,
}

impl Default for BubbleParams {
    fn default() -> Self {
        BubbleParams {
            mode: BubbleMode::Default,
            delta: 0.5,
            section_share: 0.5,
            theta: None,
            section_boosts: BTreeMap::new(),
            keyword_boosts: BTreeMap::new(),
            kind_boosts: BTreeMap::new(),
            max_per_doc: 4,
            coverage_weight: 0.5,
            min_relevance: 0.05,
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
        if !(0.0..=1.0).contains(&p.delta)
            || !(0.0..=1.0).contains(&p.section_share)
            || p.section_share == 0.0
        {
            return Err("delta must be in 0..=1 and section_share in (0, 1]".into());
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
        state.reset_decisions();
        let terms = query_terms(&state.query);
        score_static(&self.params, ctx, state, &terms);
        let mut gates = Gates::new(&self.params, state);
        match self.params.mode {
            BubbleMode::Paper => paper(&self.params, ctx, state, &mut gates),
            BubbleMode::Default => default_mode(&self.params, ctx, state, &mut gates, &terms),
            BubbleMode::TopK => top_k(ctx, state),
        }
        Ok(format!(
            "{:?} mode: {} of {} candidates selected, {} section(s), slack pool {} tokens left",
            self.params.mode,
            state.selected.len(),
            state.candidates.len(),
            gates.used_by_section.len(),
            gates.slack
        ))
    }
}

/// tf, prior and length penalty: the parts of a score that do not depend on
/// what is already selected.
fn score_static(p: &BubbleParams, ctx: &Context<'_>, state: &mut QueryState, terms: &[String]) {
    let store = ctx.retriever.index().store();
    let theta = p
        .theta
        .unwrap_or_else(|| median_tokens(&state.candidates))
        .max(1.0);
    for c in &mut state.candidates {
        let text = store.span(c.ord).map_or("", |s| s.text.as_str());
        let lower = text.to_lowercase();
        let heading = c.section.join(" > ").to_lowercase();
        let section_boost: f32 = p
            .section_boosts
            .iter()
            .filter(|(k, _)| heading.contains(&k.to_lowercase()))
            .map(|(_, v)| v)
            .sum();
        let keyword_boost: f32 = p
            .keyword_boosts
            .iter()
            .filter(|(k, _)| lower.contains(&k.to_lowercase()))
            .map(|(_, v)| v)
            .sum();
        let kind_boost = p.kind_boosts.get(c.kind.as_str()).copied().unwrap_or(0.0);
        c.scores.tf = term_count(terms, text) as f32;
        c.scores.prior = section_boost + keyword_boost + kind_boost;
        c.scores.length_penalty = 1.0 / (1.0 + c.tokens as f32 / theta);
    }
}

fn median_tokens(cands: &[Candidate]) -> f32 {
    let mut t: Vec<u32> = cands.iter().map(|c| c.tokens).collect();
    t.sort_unstable();
    t.get(t.len() / 2).copied().unwrap_or(100) as f32
}

/// Budget bookkeeping: the global budget, per-section caps and the slack pool.
struct Gates {
    budget: usize,
    used: usize,
    cap: usize,
    used_by_section: HashMap<String, usize>,
    /// Undecided candidates left in each section: a section with none left
    /// gives its unspent cap to the slack pool.
    remaining: HashMap<String, usize>,
    slack: usize,
    released: HashSet<String>,
    /// Whether a section's first span may exceed the cap (default mode: a
    /// cap should stop one section hogging the bubble, not keep out the
    /// single best span because it is long).
    first_span_free: bool,
}

impl Gates {
    fn new(p: &BubbleParams, state: &QueryState) -> Gates {
        let mut remaining: HashMap<String, usize> = HashMap::new();
        for c in &state.candidates {
            *remaining.entry(c.section_key()).or_default() += 1;
        }
        let cap = (p.section_share * state.budget as f32).floor() as usize;
        // Budget no section can claim starts in the pool (Σρ_s < 1).
        let claimable = cap.saturating_mul(remaining.len());
        Gates {
            budget: state.budget,
            used: 0,
            cap,
            used_by_section: HashMap::new(),
            remaining,
            slack: state.budget.saturating_sub(claimable),
            released: HashSet::new(),
            first_span_free: p.mode != BubbleMode::Paper,
        }
    }

    /// Checks the budget gates for a span costing `cost` in `section`.
    fn check(&self, section: &str, cost: usize) -> Result<(), &'static str> {
        if self.used + cost > self.budget {
            return Err("budget_exceeded");
        }
        let in_section = self.used_by_section.get(section).copied().unwrap_or(0);
        if in_section == 0 && self.first_span_free {
            return Ok(());
        }
        let over = (in_section + cost).saturating_sub(self.cap);
        if over > self.slack {
            return Err("section_budget");
        }
        Ok(())
    }

    fn admit(&mut self, section: &str, cost: usize) {
        let in_section = self.used_by_section.entry(section.to_string()).or_default();
        let over = (*in_section + cost).saturating_sub(self.cap.max(*in_section));
        self.slack -= over.min(self.slack);
        *in_section += cost;
        self.used += cost;
    }

    /// Marks one candidate of `section` decided; releases the section's
    /// unspent cap to the pool when it has none left.
    fn decided(&mut self, section: &str) {
        if let Some(n) = self.remaining.get_mut(section) {
            *n = n.saturating_sub(1);
            if *n == 0 && self.released.insert(section.to_string()) {
                let used = self.used_by_section.get(section).copied().unwrap_or(0);
                self.slack += self.cap.saturating_sub(used);
            }
        }
    }
}

fn paper(p: &BubbleParams, ctx: &Context<'_>, state: &mut QueryState, gates: &mut Gates) {
    for c in &mut state.candidates {
        c.scores.final_score = (c.scores.tf + c.scores.prior) * c.scores.length_penalty;
    }
    let mut order: Vec<usize> = (0..state.candidates.len()).collect();
    order.sort_by(|&a, &b| {
        let (ca, cb) = (&state.candidates[a], &state.candidates[b]);
        cb.scores
            .final_score
            .total_cmp(&ca.scores.final_score)
            .then(ca.span_id.cmp(&cb.span_id))
    });
    let store = ctx.retriever.index().store();
    let mut bubble_words: HashSet<String> = HashSet::new();
    for i in order {
        let section = state.candidates[i].section_key();
        let words = word_set(
            store
                .span(state.candidates[i].ord)
                .map_or("", |s| s.text.as_str()),
        );
        let redundancy = overlap(&words, &bubble_words);
        state.candidates[i].scores.redundancy = redundancy;
        let cost = marginal_cost(ctx, state, &state.candidates[i]);
        let verdict = if state.candidates[i].scores.final_score <= 0.0 {
            Err("low_relevance")
        } else if redundancy >= p.delta {
            Err("too_redundant")
        } else {
            gates.check(&section, cost)
        };
        decide(state, gates, i, &section, cost, verdict);
        if state.candidates[i].is_selected() {
            bubble_words.extend(words);
        }
    }
}

fn top_k(ctx: &Context<'_>, state: &mut QueryState) {
    let mut order: Vec<usize> = (0..state.candidates.len()).collect();
    order.sort_by(|&a, &b| {
        let (ca, cb) = (&state.candidates[a], &state.candidates[b]);
        cb.scores
            .retrieval
            .total_cmp(&ca.scores.retrieval)
            .then(ca.span_id.cmp(&cb.span_id))
    });
    let mut used = 0;
    for i in order {
        state.candidates[i].scores.final_score = state.candidates[i].scores.retrieval;
        let cost = marginal_cost(ctx, state, &state.candidates[i]);
        if used + cost <= state.budget {
            used += cost;
            state.candidates[i].decide(true, "selected", "bubble");
            state.selected.push(i);
        } else {
            state.candidates[i].decide(false, "budget_exceeded", "bubble");
        }
    }
}

fn decide(
    state: &mut QueryState,
    gates: &mut Gates,
    i: usize,
    section: &str,
    cost: usize,
    verdict: Result<(), &'static str>,
) {
    match verdict {
        Ok(()) => {
            gates.admit(section, cost);
            state.candidates[i].decide(true, "selected", "bubble");
            state.selected.push(i);
        }
        Err(reason) => state.candidates[i].decide(false, reason, "bubble"),
    }
    gates.decided(section);
}

fn default_mode(
    p: &BubbleParams,
    ctx: &Context<'_>,
    state: &mut QueryState,
    gates: &mut Gates,
    terms: &[String],
) {
    let store = ctx.retriever.index().store();
    let vectors = ctx.retriever.index().vectors();
    let best = state
        .candidates
        .iter()
        .map(|c| c.scores.retrieval)
        .fold(0.0f32, f32::max)
        .max(f32::MIN_POSITIVE);
    let cand_terms: Vec<HashSet<String>> = state
        .candidates
        .iter()
        .map(|c| {
            let text = store.span(c.ord).map_or("", |s| s.text.as_str());
            word_set(&format!("{} {}", c.section.join(" "), text))
                .into_iter()
                .filter(|w| terms.contains(w))
                .collect()
        })
        .collect();
    let words: Vec<HashSet<String>> = state
        .candidates
        .iter()
        .map(|c| word_set(store.span(c.ord).map_or("", |s| s.text.as_str())))
        .collect();
    let mut covered: HashSet<String> = HashSet::new();
    // Highest similarity of each candidate to anything selected, updated per admission.
    let mut redundancy = vec![0.0f32; state.candidates.len()];
    let mut per_doc: HashMap<String, usize> = HashMap::new();
    let mut open: Vec<usize> = (0..state.candidates.len()).collect();
    while !open.is_empty() {
        // Re-score what is left against the bubble as it stands.
        let mut best_pos = 0;
        let mut best_score = f32::NEG_INFINITY;
        for (pos, &i) in open.iter().enumerate() {
            let c = &state.candidates[i];
            let gain = if terms.is_empty() {
                0.0
            } else {
                cand_terms[i].difference(&covered).count() as f32 / terms.len() as f32
            };
            let relevance = c.scores.retrieval / best;
            let score = relevance + p.coverage_weight * gain + c.scores.prior - redundancy[i];
            let better = score > best_score
                || (score == best_score && c.span_id < state.candidates[open[best_pos]].span_id);
            let c = &mut state.candidates[i];
            c.scores.coverage_gain = gain;
            c.scores.redundancy = redundancy[i];
            c.scores.final_score = score;
            if better {
                best_score = score;
                best_pos = pos;
            }
        }
        let i = open.swap_remove(best_pos);
        let c = &state.candidates[i];
        let section = c.section_key();
        let cost = marginal_cost(ctx, state, c);
        let verdict =
            if c.scores.retrieval / best < p.min_relevance && c.scores.coverage_gain == 0.0 {
                Err("low_relevance")
            } else if redundancy[i] >= p.delta.max(0.9) {
                Err("too_redundant")
            } else if per_doc.get(&c.doc_id).copied().unwrap_or(0) >= p.max_per_doc {
                Err("cap_reached")
            } else {
                gates.check(&section, cost)
            };
        decide(state, gates, i, &section, cost, verdict);
        if !state.candidates[i].is_selected() {
            continue;
        }
        covered.extend(cand_terms[i].iter().cloned());
        *per_doc
            .entry(state.candidates[i].doc_id.clone())
            .or_default() += 1;
        let new_vec = vectors.and_then(|v| v.vector(state.candidates[i].ord));
        for &j in &open {
            let sim = match (
                new_vec,
                vectors.and_then(|v| v.vector(state.candidates[j].ord)),
            ) {
                (Some(a), Some(b)) => bubble_index::dot(a, b),
                _ => overlap(&words[j], &words[i]),
            };
            redundancy[j] = redundancy[j].max(sim);
        }
        expand_table_header(ctx, state, gates, i);
    }
}

/// A selected row brings its table's header row, budget permitting, so the
/// numbers in it keep their meaning when read alone.
fn expand_table_header(ctx: &Context<'_>, state: &mut QueryState, gates: &mut Gates, row: usize) {
    let store = ctx.retriever.index().store();
    let Some(header_ord) =
        bubble_retrieval::neighbours::table_header(store, state.candidates[row].ord)
    else {
        return;
    };
    if state
        .index_of(header_ord)
        .is_some_and(|h| state.candidates[h].is_selected())
    {
        return;
    }
    let from = state.candidates[row].span_id.clone();
    let Some(hit) = hit_for(ctx, header_ord, 0.0) else {
        return;
    };
    let mut c = Candidate::from_hit(&hit);
    c.scores.final_score = state.candidates[row].scores.final_score;
    let section = c.section_key();
    let cost = marginal_cost(ctx, state, &c);
    let i = state.add_candidate(c);
    if gates.check(&section, cost).is_ok() {
        gates.admit(&section, cost);
        state.candidates[i].decide(true, format!("expanded_from:{from}"), "bubble");
        state.selected.push(i);
    }
}
