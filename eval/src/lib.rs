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

/// A pipeline from its steps, written as a JSON array.
fn pipeline(name: &str, steps: &str) -> Result<bubble_assembly::Pipeline, EvalError> {
    let spec = bubble_assembly::PipelineSpec {
        name: name.to_string(),
        steps: serde_json::from_str(steps).map_err(|e| EvalError::Format {
            what: format!("pipeline {name}"),
            detail: e.to_string(),
        })?,
    };
    bubble_assembly::Pipeline::from_spec(spec).map_err(|e| EvalError::Format {
        what: format!("pipeline {name}"),
        detail: e.to_string(),
    })
}

/// The steps of a shipped pipeline after its first `skip`, as a JSON array.
/// The evaluations run a shipped pipeline's own steps on a candidate pool
/// they retrieve once, so a change to the pipeline reaches its numbers.
fn shipped_steps(name: &str, skip: usize) -> Result<String, EvalError> {
    let bad = |detail: String| EvalError::Format {
        what: format!("shipped pipeline {name}"),
        detail,
    };
    let json = bubble_assembly::pipelines::builtin(name).ok_or_else(|| bad("unknown".into()))?;
    let spec: bubble_assembly::PipelineSpec =
        serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    let steps = spec.steps.get(skip..).unwrap_or_default();
    serde_json::to_string(steps).map_err(|e| bad(e.to_string()))
}

/// The shipped default pipeline's `retrieve` step with another depth, as a
/// JSON array: the pool every method of an evaluation selects from.
fn shipped_retrieve(depth: usize) -> Result<String, EvalError> {
    let bad = |detail: String| EvalError::Format {
        what: "shipped pipeline default".into(),
        detail,
    };
    let first = shipped_steps("default", 0)?;
    let steps: Vec<serde_json::Value> =
        serde_json::from_str(&first).map_err(|e| bad(e.to_string()))?;
    let mut step = steps
        .into_iter()
        .next()
        .filter(|s| s["op"] == "retrieve")
        .ok_or_else(|| bad("does not start with retrieve".into()))?;
    step["depth"] = depth.into();
    Ok(serde_json::Value::Array(vec![step]).to_string())
}

/// The token counter of an index's own tokenizer, which budgets are counted in.
fn index_counter(
    index: &bubble_index::Index,
) -> Result<bubble_index::bubble_ingest::TokenCounter, EvalError> {
    bubble_index::bubble_ingest::TokenCounter::by_name(&index.manifest().tokenizer)
        .map_err(|e| bubble_index::IndexError::from(e).into())
}
