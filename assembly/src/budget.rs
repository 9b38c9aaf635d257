//! The budget promise: the rendered bubble, counted in the caller's
//! tokenizer, never exceeds the budget.

use crate::render::{render, Rendered};
use crate::state::{Context, QueryState};

/// Renders the selection and drops the lowest-scored spans until the text
/// fits the budget; records the rendering in the state.
pub fn fit_budget(ctx: &Context<'_>, state: &mut QueryState, step: &str) {
    let store = ctx.retriever.corpus();
    loop {
        let (text, citations) = render(store, state.shown());
        let tokens = ctx.counter.count(&text);
        if tokens <= state.budget || state.selected.is_empty() {
            state.rendered = Some(Rendered {
                text,
                citations,
                tokens,
                budget: state.budget,
            });
            return;
        }
        // Drop the weakest span (ties: the later span id) and try again.
        let (pos, _) = state
            .selected
            .iter()
            .enumerate()
            .min_by(|(_, &a), (_, &b)| {
                let (ca, cb) = (&state.candidates[a], &state.candidates[b]);
                ca.scores
                    .final_score
                    .total_cmp(&cb.scores.final_score)
                    .then(cb.span_id.cmp(&ca.span_id))
            })
            .unwrap_or((state.selected.len() - 1, &0));
        let dropped = state.selected.remove(pos);
        state.candidates[dropped].decide(false, "budget_exceeded", step.to_string());
    }
}
