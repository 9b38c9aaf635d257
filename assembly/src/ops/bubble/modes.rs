//! The greedy passes of each mode.

use super::features::{best_retrieval, Features};
use super::gates::Gates;
use super::BubbleParams;
use crate::candidate::Candidate;
use crate::ops::retrieve::hit_for;
use crate::render::CostModel;
use crate::state::{Context, QueryState};
use std::collections::{HashMap, HashSet};

/// Indices of candidates in descending `key`, ties broken by span id.
fn ordered_by(state: &QueryState, key: impl Fn(&Candidate) -> f32) -> Vec<usize> {
    let mut order: Vec<usize> = (0..state.candidates.len()).collect();
    order.sort_by(|&a, &b| {
        let (ca, cb) = (&state.candidates[a], &state.candidates[b]);
        key(cb)
            .total_cmp(&key(ca))
            .then(ca.span_id.cmp(&cb.span_id))
    });
    order
}

/// The published method: (tf + prior) × length penalty, greedy through the
/// global budget, section budget (with slack pool) and lexical redundancy gates.
pub(super) fn paper(
    p: &BubbleParams,
    ctx: &Context<'_>,
    state: &mut QueryState,
    gates: &mut Gates,
    f: &Features<'_>,
) {
    for c in &mut state.candidates {
        c.scores.final_score = (c.scores.tf + c.scores.prior) * c.scores.length_penalty;
    }
    let mut bubble_words: HashSet<u64> = HashSet::new();
    let mut costs = CostModel::default();
    for i in ordered_by(state, |c| c.scores.final_score) {
        let section = state.candidates[i].section_key();
        let redundancy = f.lex[i].overlap_with(&bubble_words);
        state.candidates[i].scores.redundancy = redundancy;
        let cost = costs.cost(ctx.counter, &state.candidates[i], gates.room());
        let verdict = if state.candidates[i].scores.final_score <= 0.0 {
            Err("low_relevance")
        } else if redundancy >= p.delta {
            Err("too_redundant")
        } else {
            gates.check(&section, cost)
        };
        decide(state, gates, &mut costs, i, &section, cost, verdict);
        if state.candidates[i].is_selected() {
            bubble_words.extend(f.lex[i].words.iter().copied());
        }
    }
}

/// The baseline: retrieval order, the global budget as the only gate.
pub(super) fn top_k(ctx: &Context<'_>, state: &mut QueryState) {
    let mut used = 0;
    let mut costs = CostModel::default();
    for i in ordered_by(state, |c| c.scores.retrieval) {
        state.candidates[i].scores.final_score = state.candidates[i].scores.retrieval;
        let cost = costs.cost(
            ctx.counter,
            &state.candidates[i],
            state.budget.saturating_sub(used),
        );
        admit_if_fits(state, &mut costs, i, cost, &mut used);
    }
}

fn admit_if_fits(
    state: &mut QueryState,
    costs: &mut CostModel,
    i: usize,
    cost: usize,
    used: &mut usize,
) -> bool {
    if *used + cost > state.budget {
        state.candidates[i].decide(false, "budget_exceeded", "bubble");
        return false;
    }
    *used += cost;
    costs.admit(&state.candidates[i]);
    state.candidates[i].decide(true, "selected", "bubble");
    state.selected.push(i);
    true
}

/// Picks the open candidate with the highest `score`, ties by span id.
fn pick(state: &QueryState, open: &[usize], score: impl Fn(usize) -> f32) -> usize {
    let mut best = 0;
    for pos in 1..open.len() {
        let (a, b) = (open[pos], open[best]);
        let (sa, sb) = (score(a), score(b));
        if sa > sb || (sa == sb && state.candidates[a].span_id < state.candidates[b].span_id) {
            best = pos;
        }
    }
    best
}

/// Maximal marginal relevance, the global budget as the only gate.
pub(super) fn mmr(lambda: f32, ctx: &Context<'_>, state: &mut QueryState, f: &Features<'_>) {
    let best = best_retrieval(state);
    let mut redundancy = vec![0.0f32; state.candidates.len()];
    let mut open: Vec<usize> = (0..state.candidates.len()).collect();
    let mut used = 0;
    let mut costs = CostModel::default();
    while !open.is_empty() {
        let score = |i: usize| {
            lambda * state.candidates[i].scores.retrieval / best - (1.0 - lambda) * redundancy[i]
        };
        let i = open.swap_remove(pick(state, &open, score));
        state.candidates[i].scores.final_score = score(i);
        state.candidates[i].scores.redundancy = redundancy[i];
        let cost = costs.cost(
            ctx.counter,
            &state.candidates[i],
            state.budget.saturating_sub(used),
        );
        if admit_if_fits(state, &mut costs, i, cost, &mut used) {
            for &j in &open {
                redundancy[j] = redundancy[j].max(f.similarity(i, j));
            }
        }
    }
}

/// Ours: after every admission the rest is re-scored by relevance, the
/// query terms a span would newly cover and its similarity to what is in;
/// caps per document and section; a chosen row brings its table header.
pub(super) fn default_mode(
    p: &BubbleParams,
    ctx: &Context<'_>,
    state: &mut QueryState,
    gates: &mut Gates,
    f: &Features<'_>,
) {
    let best = best_retrieval(state);
    let mut covered: u64 = 0;
    let mut redundancy = vec![0.0f32; state.candidates.len()];
    let mut per_doc: HashMap<String, usize> = HashMap::new();
    let mut open: Vec<usize> = (0..state.candidates.len()).collect();
    let mut costs = CostModel::default();
    while !open.is_empty() {
        let score = |i: usize| {
            let c = &state.candidates[i];
            c.scores.retrieval / best
                + p.coverage_weight * f.coverage_gain(i, covered)
                + c.scores.prior
                - p.redundancy_weight * redundancy[i]
        };
        let i = open.swap_remove(pick(state, &open, score));
        let final_score = score(i);
        let c = &mut state.candidates[i];
        c.scores.coverage_gain = f.coverage_gain(i, covered);
        c.scores.redundancy = redundancy[i];
        c.scores.final_score = final_score;
        let c = &state.candidates[i];
        let section = c.section_key();
        let cost = costs.cost(ctx.counter, c, gates.room());
        let verdict =
            if c.scores.retrieval / best < p.min_relevance && c.scores.coverage_gain == 0.0 {
                Err("low_relevance")
            } else if redundancy[i] >= p.max_similarity {
                Err("too_redundant")
            } else if per_doc.get(&c.doc_id).copied().unwrap_or(0) >= p.max_per_doc {
                Err("cap_reached")
            } else {
                gates.check(&section, cost)
            };
        decide(state, gates, &mut costs, i, &section, cost, verdict);
        if !state.candidates[i].is_selected() {
            continue;
        }
        covered |= f.lex[i].terms;
        *per_doc
            .entry(state.candidates[i].doc_id.clone())
            .or_default() += 1;
        for &j in &open {
            redundancy[j] = redundancy[j].max(f.similarity(i, j));
        }
        expand_table_header(ctx, state, gates, &mut costs, &mut open, i);
    }
}

pub(super) fn decide(
    state: &mut QueryState,
    gates: &mut Gates,
    costs: &mut CostModel,
    i: usize,
    section: &str,
    cost: usize,
    verdict: Result<(), &'static str>,
) {
    match verdict {
        Ok(()) => {
            gates.admit(section, cost);
            costs.admit(&state.candidates[i]);
            state.candidates[i].decide(true, "selected", "bubble");
            state.selected.push(i);
        }
        Err(reason) => state.candidates[i].decide(false, reason, "bubble"),
    }
    gates.decided(section);
}

/// A selected row brings its table's header row, budget permitting, so the
/// numbers in it keep their meaning when read alone. The header may already
/// be a candidate (from `expand`, or still waiting in `open`): it is decided
/// here, once, either way.
fn expand_table_header(
    ctx: &Context<'_>,
    state: &mut QueryState,
    gates: &mut Gates,
    costs: &mut CostModel,
    open: &mut Vec<usize>,
    row: usize,
) {
    let store = ctx.retriever.index().store();
    let Some(header_ord) =
        bubble_retrieval::neighbours::table_header(store, state.candidates[row].ord)
    else {
        return;
    };
    let i = match state.index_of(header_ord) {
        Some(h) if state.candidates[h].is_selected() => return,
        Some(h) => h,
        None => {
            let Some(hit) = hit_for(ctx, header_ord, 0.0) else {
                return;
            };
            state.add_candidate(Candidate::from_hit(&hit))
        }
    };
    let from = state.candidates[row].span_id.clone();
    let waiting = open.iter().position(|&o| o == i);
    let section = state.candidates[i].section_key();
    let cost = costs.cost(ctx.counter, &state.candidates[i], gates.room());
    match gates.check(&section, cost) {
        Ok(()) => {
            if let Some(pos) = waiting {
                open.swap_remove(pos);
            }
            gates.admit(&section, cost);
            costs.admit(&state.candidates[i]);
            state.candidates[i].scores.final_score = state.candidates[row].scores.final_score;
            state.candidates[i].decide(true, format!("expanded_from:{from}"), "bubble");
            state.selected.push(i);
        }
        // A header still waiting gets its own turn; a new one is decided now.
        Err(reason) if waiting.is_none() && state.candidates[i].decision.is_none() => {
            state.candidates[i].decide(false, reason, "bubble");
        }
        Err(_) => {}
    }
}
