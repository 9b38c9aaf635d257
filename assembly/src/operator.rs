//! The operator contract: one stage of a pipeline, over the shared state.

use crate::state::{Context, QueryState};
use crate::AssemblyError;

/// One stage of a pipeline. Operators read the index through the context
/// and change only the state; a pipeline is any composition of them.
pub trait Operator: std::fmt::Debug + Send + Sync {
    /// The name the trace records.
    fn name(&self) -> &str;
    /// Runs the stage; returns a short note for the trace.
    fn run(&self, ctx: &Context<'_>, state: &mut QueryState) -> Result<String, AssemblyError>;
}
