//! The greedy passes of each mode.

use super::duplicates::duplicate_of;
use super::features::{best_retrieval, Features};
use super::gates::Gates;
use super::links::LinkTargets;
use super::{sections, tables, BubbleParams};
use crate::candidate::Candidate;
use crate::cost::CostModel;
use crate::state::{Context, QueryState};
use crate::text::overlap_with;
use bubble_index::bubble_ingest::SpanKind;
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
    let mut costs = CostModel::new(ctx);
    for i in ordered_by(state, |c| c.scores.final_score) {
        let section = gates.section(state, i);
        let redundancy = overlap_with(f.words(i), &bubble_words);
        state.candidates[i].scores.redundancy = redundancy;
        let cost = costs.cost(&state.candidates[i], gates.room());
        let verdict = if state.candidates[i].scores.final_score <= 0.0 {
            Err("low_relevance")
        } else if redundancy >= p.delta {
            Err("too_redundant")
        } else {
            gates.check(section, cost)
        };
        decide(state, gates, &mut costs, i, section, cost, verdict);
        if state.candidates[i].is_selected() {
            bubble_words.extend(f.words(i).iter().copied());
        }
    }
}

/// The baseline: retrieval order, the global budget as the only gate.
pub(super) fn top_k(ctx: &Context<'_>, state: &mut QueryState) {
    let mut used = 0;
    let mut costs = CostModel::new(ctx);
    for i in ordered_by(state, |c| c.scores.retrieval) {
        state.candidates[i].scores.final_score = state.candidates[i].scores.retrieval;
        let cost = costs.cost(&state.candidates[i], state.budget.saturating_sub(used));
        admit_if_fits(state, &mut costs, i, cost, &mut used);
    }
}

fn admit_if_fits(
    state: &mut QueryState,
    costs: &mut CostModel<'_>,
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

/// A greedy pass whose scores change only when a candidate is admitted.
/// The undecided candidates are sorted by `score` (descending, ties by span
/// id) and offered to `step` in that order until it admits one; then the
/// rest are re-scored. This visits them in the same order as re-picking the
/// best after every decision, in O(admissions · n log n) rather than O(n²).
/// `step` must decide every candidate it is offered.
fn greedy<S>(
    state: &mut QueryState,
    sel: &mut S,
    score: impl Fn(&QueryState, &S, usize) -> f32,
    mut step: impl FnMut(&mut QueryState, &mut S, usize, f32) -> bool,
) {
    // Candidates added during the pass (headers) are decided when added.
    let n = state.candidates.len();
    loop {
        let mut queue: Vec<(f32, usize)> = (0..n)
            .filter(|&i| state.candidates[i].decision.is_none())
            .map(|i| (score(state, sel, i), i))
            .collect();
        let c = &state.candidates;
        queue.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| c[a.1].span_id.cmp(&c[b.1].span_id))
        });
        let mut admitted = false;
        for (s, i) in queue {
            if state.candidates[i].decision.is_none() && step(state, sel, i, s) {
                admitted = true;
                break;
            }
        }
        if !admitted {
            return;
        }
    }
}

/// Raises the redundancy of every undecided candidate to its similarity
/// with the newly admitted `i`, scaled by `in_section` for a block of the
/// same section (read in the same encoder window).
fn raise_redundancy(
    state: &QueryState,
    f: &Features<'_>,
    redundancy: &mut [f32],
    i: usize,
    in_section: f32,
) {
    let admitted = &state.candidates[i];
    for (j, r) in redundancy.iter_mut().enumerate() {
        let c = &state.candidates[j];
        if c.decision.is_none() {
            let same = c.doc_id == admitted.doc_id && c.section == admitted.section;
            let s = f.similarity(i, j);
            *r = r.max(if same { s * in_section } else { s });
        }
    }
}

/// The scale of a same-section similarity in default mode.
fn in_section(p: &BubbleParams) -> f32 {
    p.max_similarity / p.section_similarity
}

/// Maximal marginal relevance, the global budget as the only gate.
pub(super) fn mmr(lambda: f32, ctx: &Context<'_>, state: &mut QueryState, f: &Features<'_>) {
    let best = best_retrieval(state);
    let mut redundancy = vec![0.0f32; state.candidates.len()];
    let mut used = 0;
    let mut costs = CostModel::new(ctx);
    greedy(
        state,
        &mut redundancy,
        |state, redundancy, i| {
            lambda * state.candidates[i].scores.retrieval / best - (1.0 - lambda) * redundancy[i]
        },
        |state, redundancy, i, score| {
            state.candidates[i].scores.final_score = score;
            state.candidates[i].scores.redundancy = redundancy[i];
            let room = state.budget.saturating_sub(used);
            let cost = costs.cost(&state.candidates[i], room);
            let admitted = admit_if_fits(state, &mut costs, i, cost, &mut used);
            if admitted {
                raise_redundancy(state, f, redundancy, i, 1.0);
            }
            admitted
        },
    );
}

/// What the default pass has admitted so far.
struct Selection<'g> {
    /// The budget gates, which also know the sections already reached.
    gates: &'g mut Gates,
    /// Query terms the bubble mentions.
    covered: u64,
    /// Each candidate's highest similarity to an admitted span.
    redundancy: Vec<f32>,
    /// Whether an admitted span mentions the candidate's document title.
    linked: Vec<bool>,
    per_doc: HashMap<String, usize>,
    /// Per facet: the closest an admitted span comes to it (relative cosine).
    facets_reached: Vec<f32>,
    /// Tables with an admitted row the query names.
    named_tables: HashSet<u32>,
    /// Tables with an admitted row.
    tables: HashSet<u32>,
}

/// Ours: after every admission the rest is re-scored by relevance, the
/// query terms a span would newly cover, a cross-reference from the bubble,
/// whether its section is new to the bubble, and its similarity to what is
/// in; caps per document and section; a chosen row brings its table header.
pub(super) fn default_mode(
    p: &BubbleParams,
    ctx: &Context<'_>,
    state: &mut QueryState,
    gates: &mut Gates,
    f: &Features<'_>,
) {
    let best = best_retrieval(state);
    let mut sel = Selection {
        gates,
        covered: 0,
        redundancy: vec![0.0f32; state.candidates.len()],
        linked: vec![false; state.candidates.len()],
        per_doc: HashMap::new(),
        facets_reached: vec![0.0; f.facet_count()],
        named_tables: HashSet::new(),
        tables: HashSet::new(),
    };
    let links = if p.link_weight > 0.0 {
        LinkTargets::new(state)
    } else {
        LinkTargets::default()
    };
    let mut costs = CostModel::new(ctx);
    let link = |sel: &Selection, i: usize| p.link_weight * f32::from(u8::from(sel.linked[i]));
    let novelty = |sel: &Selection, i: usize| {
        p.section_weight * f32::from(u8::from(!sel.gates.section_reached(i)))
    };
    let facet = |sel: &Selection, i: usize| p.facet_weight * f.facet_gain(i, &sel.facets_reached);
    let named =
        |i: usize| p.named_row_weight * f32::from(u8::from(f.row(i).is_some_and(|r| r.named)));
    let score = |state: &QueryState, sel: &Selection, i: usize| {
        let c = &state.candidates[i];
        c.scores.retrieval / best
            + p.coverage_weight * f.coverage_gain(i, sel.covered)
            + c.scores.prior
            + link(sel, i)
            + named(i)
            + novelty(sel, i)
            + facet(sel, i)
            - p.redundancy_weight * sel.redundancy[i]
    };
    greedy(state, &mut sel, score, |state, sel, i, final_score| {
        let c = &mut state.candidates[i];
        c.scores.coverage_gain = f.coverage_gain(i, sel.covered);
        c.scores.link = link(sel, i);
        c.scores.named_row = named(i);
        c.scores.new_section = novelty(sel, i);
        c.scores.facet_gain = f.facet_gain(i, &sel.facets_reached);
        c.scores.redundancy = sel.redundancy[i];
        c.scores.final_score = final_score;
        let section = sel.gates.section(state, i);
        // A header row alone says nothing: it comes with a row of its table.
        if state.candidates[i].kind == SpanKind::TableHeader {
            state.candidates[i].decide(false, "low_relevance", "bubble");
            sel.gates.decided(section);
            return false;
        }
        // Once the query's own row of a table is in (the Business row of
        // "the Business plan"), the table's other rows are not what was
        // asked, however well their shared labels match.
        if let Some(row) = f.row(i) {
            if !row.named && sel.named_tables.contains(&row.table) {
                state.candidates[i].decide(false, "low_relevance", "bubble");
                sel.gates.decided(section);
                return false;
            }
        }
        if p.fold_duplicates {
            if let Some(k) = duplicate_of(f, state, i, p.duplicate_cosine) {
                let reason = format!("duplicate_of:{}", state.candidates[k].span_id);
                let (kept, folded) = (state.candidates[k].ord, state.candidates[i].ord);
                state.candidates[i].decide(false, reason, "bubble");
                state.duplicates.entry(kept).or_default().push(folded);
                // The query's row of this table is in, as its duplicate.
                if let Some(row) = f.row(i).filter(|r| r.named) {
                    sel.named_tables.insert(row.table);
                }
                sel.gates.decided(section);
                return false;
            }
        }
        // A table is one unit for the document cap: its first row counts.
        let in_open_table = f.row(i).is_some_and(|r| sel.tables.contains(&r.table));
        let c = &state.candidates[i];
        let cost = costs.cost(c, sel.gates.room());
        let lift = c.scores.new_section + p.facet_weight * c.scores.facet_gain;
        let verdict = if !state.fill
            && c.scores.retrieval / best + lift < p.min_relevance
            && c.scores.coverage_gain == 0.0
            && c.scores.link == 0.0
            && c.scores.named_row == 0.0
        {
            Err("low_relevance")
        } else if sel.redundancy[i] >= p.max_similarity {
            Err("too_redundant")
        } else if !in_open_table
            && sel.per_doc.get(&c.doc_id).copied().unwrap_or(0) >= p.max_per_doc
        {
            Err("cap_reached")
        } else {
            sel.gates.check(section, cost)
        };
        decide(state, sel.gates, &mut costs, i, section, cost, verdict);
        if !state.candidates[i].is_selected() {
            return false;
        }
        sel.covered |= f.lex[i].terms;
        for (k, r) in sel.facets_reached.iter_mut().enumerate() {
            *r = r.max(f.facet(k, i));
        }
        if !in_open_table {
            *sel.per_doc
                .entry(state.candidates[i].doc_id.clone())
                .or_default() += 1;
        }
        if let Some(row) = f.row(i) {
            sel.tables.insert(row.table);
        }
        raise_redundancy(state, f, &mut sel.redundancy, i, in_section(p));
        links.follow(state, f.text(i), &mut sel.linked, i);
        tables::expand_header(ctx, state, sel.gates, &mut costs, i);
        // The rest of a small table: one unit, not counted per row against
        // the document cap. A row the query names is the answer itself.
        let rows = match f.row(i) {
            Some(row) if row.named => {
                sel.named_tables.insert(row.table);
                Vec::new()
            }
            Some(row) if !sel.named_tables.contains(&row.table) => {
                tables::take_whole(ctx, state, sel.gates, &mut costs, i, p.whole_table_share)
            }
            _ => Vec::new(),
        };
        let blocks = if f.row(i).is_none() {
            sections::take_whole(
                ctx,
                state,
                sel.gates,
                &mut costs,
                i,
                p.whole_section_share,
                p.section_spread,
            )
        } else {
            Vec::new()
        };
        for r in rows.into_iter().chain(blocks).filter(|&r| r < f.len()) {
            sel.covered |= f.lex[r].terms;
            raise_redundancy(state, f, &mut sel.redundancy, r, in_section(p));
        }
        true
    });
}

/// Puts candidate `i` in the bubble: its cost on the gates, its headings
/// open, its decision.
pub(super) fn enter(
    state: &mut QueryState,
    gates: &mut Gates,
    costs: &mut CostModel<'_>,
    i: usize,
    section: usize,
    cost: usize,
    reason: std::borrow::Cow<'static, str>,
) {
    gates.admit(section, cost);
    costs.admit(&state.candidates[i]);
    state.candidates[i].decide(true, reason, "bubble");
    state.selected.push(i);
}

pub(super) fn decide(
    state: &mut QueryState,
    gates: &mut Gates,
    costs: &mut CostModel<'_>,
    i: usize,
    section: usize,
    cost: usize,
    verdict: Result<(), &'static str>,
) {
    match verdict {
        Ok(()) => enter(state, gates, costs, i, section, cost, "selected".into()),
        Err(reason) => state.candidates[i].decide(false, reason, "bubble"),
    }
    gates.decided(section);
}
