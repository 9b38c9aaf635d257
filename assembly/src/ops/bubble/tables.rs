//! Tables in a bubble: a chosen row brings its header, and a relevant table
//! small enough for the budget comes whole, so the reader, not the
//! retriever, picks the row ("per diem in Germany" is the "Other EU
//! countries" row, which no retriever ranks first).

use super::gates::Gates;
use crate::candidate::Candidate;
use crate::cost::CostModel;
use crate::ops::retrieve::hit_for;
use crate::state::{Context, QueryState};
use bubble_index::bubble_ingest::SpanKind;
use bubble_retrieval::neighbours::{table_header, table_of, TableSpans};

/// Tables with more rows are never taken whole: no budget share fits them,
/// and pricing each row would cost more than the decision is worth.
const MAX_WHOLE_ROWS: u32 = 64;

/// The candidate index of span `ord`, and whether it was added now.
fn candidate_of(ctx: &Context<'_>, state: &mut QueryState, ord: u32) -> Option<(usize, bool)> {
    if let Some(i) = state.index_of(ord) {
        return Some((i, false));
    }
    let hit = hit_for(ctx, ord, 0.0)?;
    Some((state.add_candidate(Candidate::from_hit(&hit)), true))
}

/// A selected row brings its table's header row, budget permitting, so the
/// numbers in it keep their meaning when read alone. The header may already
/// be a candidate (from `expand`, or still undecided): it is decided
/// here, once, either way.
pub(super) fn expand_header(
    ctx: &Context<'_>,
    state: &mut QueryState,
    gates: &mut Gates,
    costs: &mut CostModel<'_>,
    row: usize,
) {
    let store = ctx.retriever.index().store();
    let Some(header_ord) = table_header(store, state.candidates[row].ord) else {
        return;
    };
    let Some((i, added)) = candidate_of(ctx, state, header_ord) else {
        return;
    };
    if state.candidates[i].is_selected() {
        return;
    }
    let from = state.candidates[row].span_id.clone();
    let section = gates.section(state, i);
    let cost = costs.cost(&state.candidates[i], gates.room());
    // Its lines are paid once the row opened the table (cost 0): then no
    // gate can keep it out.
    let verdict = if cost == 0 {
        Ok(())
    } else {
        gates.check(section, cost)
    };
    match verdict {
        Ok(()) => {
            let score = state.candidates[row].scores.final_score;
            admit(
                state,
                gates,
                costs,
                i,
                section,
                cost,
                score,
                format!("expanded_from:{from}"),
            );
        }
        // A header still waiting gets its own turn; a new one is decided now.
        Err(reason) if added => {
            state.candidates[i].decide(false, reason, "bubble");
        }
        Err(_) => {}
    }
}

/// Takes the rest of a selected row's table when all of it costs at most
/// `share` of the budget and fits what is left: rows decided before (too
/// similar, say) are decided again, as part of the table. Returns the
/// candidate indices admitted.
pub(super) fn take_whole(
    ctx: &Context<'_>,
    state: &mut QueryState,
    gates: &mut Gates,
    costs: &mut CostModel<'_>,
    row: usize,
    share: f32,
) -> Vec<usize> {
    let store = ctx.retriever.index().store();
    let ord = state.candidates[row].ord;
    if share <= 0.0 || state.candidates[row].kind != SpanKind::Row {
        return Vec::new();
    }
    let Some(table) = table_of(store, ord) else {
        return Vec::new();
    };
    if table.rows.len() as u32 > MAX_WHOLE_ROWS {
        return Vec::new();
    }
    // Price the rows not in yet without adding them to the pool: a table
    // not taken leaves no trace.
    let mut missing = Vec::new();
    let mut cost = 0;
    for o in table.rows.clone() {
        if state
            .index_of(o)
            .is_some_and(|i| state.candidates[i].is_selected())
        {
            continue;
        }
        let Some(hit) = hit_for(ctx, o, 0.0) else {
            return Vec::new();
        };
        let c = Candidate::from_hit(&hit);
        let row_cost = costs.cost(&c, gates.room());
        cost += row_cost;
        missing.push((o, row_cost));
    }
    let limit = (share * state.budget as f32) as usize;
    let whole: usize = cost + table_tokens_in(state, costs, &table);
    if missing.is_empty() || cost > gates.room() || whole > limit {
        return Vec::new();
    }
    let from = state.candidates[row].span_id.clone();
    let score = state.candidates[row].scores.final_score;
    let mut admitted = Vec::new();
    for (o, row_cost) in missing {
        let Some((i, added)) = candidate_of(ctx, state, o) else {
            continue;
        };
        let waiting = !added && state.candidates[i].decision.is_none();
        let section = gates.section(state, i);
        admit(
            state,
            gates,
            costs,
            i,
            section,
            row_cost,
            score,
            format!("whole_table:{from}"),
        );
        if waiting {
            gates.decided(section);
        }
        admitted.push(i);
    }
    admitted
}

/// Tokens the table's selected spans cost already (its header and rows in).
fn table_tokens_in(state: &QueryState, costs: &mut CostModel<'_>, table: &TableSpans) -> usize {
    table
        .header
        .into_iter()
        .chain(table.rows.clone())
        .filter_map(|o| state.index_of(o))
        .filter(|&i| state.candidates[i].is_selected())
        .map(|i| costs.line_tokens(&state.candidates[i]))
        .sum()
}

#[allow(clippy::too_many_arguments)]
fn admit(
    state: &mut QueryState,
    gates: &mut Gates,
    costs: &mut CostModel<'_>,
    i: usize,
    section: usize,
    cost: usize,
    score: f32,
    reason: String,
) {
    gates.admit(section, cost);
    costs.admit(&state.candidates[i]);
    let c = &mut state.candidates[i];
    c.scores.final_score = score;
    c.decide(true, reason, "bubble");
    state.selected.push(i);
}
