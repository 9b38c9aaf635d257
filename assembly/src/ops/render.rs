//! `render`: the bubble as text, with the budget enforced on that text.

use crate::budget::fit_budget;
use crate::operator::Operator;
use crate::state::{Context, QueryState};
use crate::AssemblyError;

/// Renders the bubble and enforces the budget on the rendered text.
#[derive(Debug, Clone, Default)]
pub struct Render;

impl Operator for Render {
    fn name(&self) -> &str {
        "render"
    }

    fn run(&self, ctx: &Context<'_>, state: &mut QueryState) -> Result<String, AssemblyError> {
        let before = state.selected.len();
        fit_budget(ctx, state, "render");
        let tokens = state.rendered.as_ref().map_or(0, |r| r.tokens);
        Ok(format!(
            "{tokens} of {} tokens; {} span(s) dropped to fit",
            state.budget,
            before - state.selected.len()
        ))
    }
}
