//! Taking a unit whole (a table, a section): its spans not in the bubble
//! yet are priced without entering the pool (a unit not taken leaves no
//! trace), then admitted together, each with the reason naming the span
//! that brought them.

use super::gates::Gates;
use crate::candidate::Candidate;
use crate::cost::CostModel;
use crate::ops::retrieve::hit_for;
use crate::state::{Context, QueryState};

/// The spans of `ords` not selected yet, each with its cost, and their
/// total; `None` when one cannot be read.
pub(super) fn price(
    ctx: &Context<'_>,
    state: &QueryState,
    gates: &Gates,
    costs: &mut CostModel<'_>,
    ords: impl Iterator<Item = u32>,
) -> Option<(Vec<(u32, usize)>, usize)> {
    let mut missing = Vec::new();
    let mut total = 0;
    for o in ords {
        if state
            .index_of(o)
            .is_some_and(|i| state.candidates[i].is_selected())
        {
            continue;
        }
        let c = Candidate::from_hit(&hit_for(ctx, o, 0.0)?);
        let cost = costs.cost(&c, gates.room());
        total += cost;
        missing.push((o, cost));
    }
    Some((missing, total))
}

/// The candidate index of span `ord`, and whether it was added now.
pub(super) fn candidate_of(
    ctx: &Context<'_>,
    state: &mut QueryState,
    ord: u32,
) -> Option<(usize, bool)> {
    if let Some(i) = state.index_of(ord) {
        return Some((i, false));
    }
    let hit = hit_for(ctx, ord, 0.0)?;
    Some((state.add_candidate(Candidate::from_hit(&hit)), true))
}

/// Admits one span with `reason`, scored like the span that brought it.
#[allow(clippy::too_many_arguments)]
pub(super) fn admit(
    state: &mut QueryState,
    gates: &mut Gates,
    costs: &mut CostModel<'_>,
    i: usize,
    section: usize,
    cost: usize,
    score: f32,
    reason: String,
) {
    state.candidates[i].scores.final_score = score;
    super::modes::enter(state, gates, costs, i, section, cost, reason.into());
}

/// Admits every priced span as `<kind>:<id of candidate from>`; returns
/// their candidate indices. A span that was waiting for its turn counts as
/// decided for its section's gate.
pub(super) fn admit_all(
    ctx: &Context<'_>,
    state: &mut QueryState,
    gates: &mut Gates,
    costs: &mut CostModel<'_>,
    missing: Vec<(u32, usize)>,
    from: usize,
    kind: &str,
) -> Vec<usize> {
    let reason = format!("{kind}:{}", state.candidates[from].span_id);
    let score = state.candidates[from].scores.final_score;
    let mut admitted = Vec::new();
    for (o, cost) in missing {
        let Some((i, added)) = candidate_of(ctx, state, o) else {
            continue;
        };
        let waiting = !added && state.candidates[i].decision.is_none();
        let section = gates.section(state, i);
        admit(state, gates, costs, i, section, cost, score, reason.clone());
        if waiting {
            gates.decided(section);
        }
        admitted.push(i);
    }
    admitted
}
