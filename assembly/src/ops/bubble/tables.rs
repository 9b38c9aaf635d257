//! Tables in a bubble: a chosen row brings its header, and a relevant table
//! small enough for the budget comes whole, so the reader, not the
//! retriever, picks the row ("per diem in Germany" is the "Other EU
//! countries" row, which no retriever ranks first).

use super::gates::Gates;
use super::whole;
use crate::cost::CostModel;
use crate::state::{Context, QueryState};
use bubble_index::bubble_ingest::SpanKind;
use bubble_retrieval::neighbours::{table_header, table_of, TableSpans};

/// Tables with more rows are never taken whole: no budget share fits them,
/// and pricing each row would cost more than the decision is worth.
const MAX_WHOLE_ROWS: u32 = 64;

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
    let store = ctx.retriever.corpus();
    let Some(header_ord) = table_header(store, state.candidates[row].ord) else {
        return;
    };
    let Some((i, added)) = whole::candidate_of(ctx, state, header_ord) else {
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
            whole::admit(
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
    let store = ctx.retriever.corpus();
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
    let Some((missing, cost)) = whole::price(ctx, state, gates, costs, table.rows.clone()) else {
        return Vec::new();
    };
    let limit = (share * state.budget as f32) as usize;
    let all: usize = cost + table_tokens_in(state, costs, &table);
    if missing.is_empty() || cost > gates.room() || all > limit {
        return Vec::new();
    }
    whole::admit_all(ctx, state, gates, costs, missing, row, "whole_table")
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
