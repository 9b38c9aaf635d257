//! Evaluation for Bubble: public datasets converted to Bubble's inputs, the
//! metrics, and the runners that measure retrieval (and later bubbles) and
//! print tables. This crate must not know about HTTP or the CLI: those layers
//! call into it, never the other way round.
#![deny(missing_docs)]

pub mod ablation;
pub mod bubble;
pub mod error;
pub mod hotpotqa;
mod jsonl;
pub mod metrics;
pub mod scifact;

pub use error::EvalError;
pub mod retrieval;

/// The token counter of an index's own tokenizer, which budgets are counted in.
fn index_counter(
    index: &bubble_index::Index,
) -> Result<bubble_index::bubble_ingest::TokenCounter, EvalError> {
    bubble_index::bubble_ingest::TokenCounter::by_name(&index.manifest().tokenizer)
        .map_err(|e| bubble_index::IndexError::from(e).into())
}
