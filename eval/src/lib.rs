//! Evaluation for Bubble: public datasets converted to Bubble's inputs, the
//! metrics, and the runners that measure retrieval (and later bubbles) and
//! print tables. This crate must not know about HTTP or the CLI: those layers
//! call into it, never the other way round.
#![deny(missing_docs)]

pub mod ablation;
pub mod backends;
pub mod bubble;
pub mod compress;
pub mod docs;
pub mod error;
pub mod hotpotqa;
mod jsonl;
pub mod metrics;
pub mod near_duplicates;
pub mod rank_train;
pub mod scale;
pub mod scifact;
pub mod source;
pub mod squad;
pub mod units;

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

/// A shipped pipeline's steps as JSON values.
fn shipped_step_values(name: &str) -> Result<Vec<serde_json::Value>, EvalError> {
    let json = bubble_assembly::pipelines::builtin(name)
        .ok_or_else(|| shipped_error(name, "unknown".into()))?;
    let spec: bubble_assembly::PipelineSpec =
        serde_json::from_str(json).map_err(|e| shipped_error(name, e.to_string()))?;
    spec.steps
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .map_err(|e| shipped_error(name, e.to_string()))
}

fn shipped_error(name: &str, detail: String) -> EvalError {
    EvalError::Format {
        what: format!("shipped pipeline {name}"),
        detail,
    }
}

/// The steps of a shipped pipeline after its first `skip`, as a JSON array.
/// The evaluations run a shipped pipeline's own steps on a candidate pool
/// they retrieve once, so a change to the pipeline reaches its numbers.
fn shipped_steps(name: &str, skip: usize) -> Result<String, EvalError> {
    let mut steps = shipped_step_values(name)?;
    let rest = steps.split_off(skip.min(steps.len()));
    Ok(serde_json::Value::Array(rest).to_string())
}

/// A shipped pipeline's steps after its `retrieve`, on sentence units: its
/// `expand` steps dropped and `units` before its first `bubble`.
fn shipped_on_sentences(name: &str) -> Result<String, EvalError> {
    let mut steps: Vec<serde_json::Value> = shipped_step_values(name)?
        .into_iter()
        .skip(1)
        .filter(|s| s["op"] != "expand")
        .collect();
    let bubble = steps
        .iter()
        .position(|s| s["op"] == "bubble")
        .ok_or_else(|| shipped_error(name, "has no bubble step".into()))?;
    steps.insert(bubble, serde_json::json!({"op": "units"}));
    Ok(serde_json::Value::Array(steps).to_string())
}

/// The shipped default pipeline's `retrieve` step with another depth, as a
/// JSON array: the pool every method of an evaluation selects from.
fn shipped_retrieve(depth: usize) -> Result<String, EvalError> {
    let mut step = shipped_step_values("default")?
        .into_iter()
        .next()
        .filter(|s| s["op"] == "retrieve")
        .ok_or_else(|| shipped_error("default", "does not start with retrieve".into()))?;
    step["depth"] = depth.into();
    Ok(serde_json::Value::Array(vec![step]).to_string())
}

/// The shipped default measured with the ranker's heads left out (its
/// rerank then scores by the plain cosine, which gives back the fused
/// order): beside `default`, the ranker's own share of a result.
pub(crate) const NO_RANKER: &str = "default, no ranker";

/// The shipped default's steps after its first `skip`, as [`NO_RANKER`],
/// when a ranker is loaded (without one, `default` is that already).
pub(crate) fn no_ranker_method(
    ranker: Option<&bubble_rank::Ranker>,
    skip: usize,
) -> Result<Option<(&'static str, String)>, EvalError> {
    ranker
        .map(|_| shipped_steps("default", skip).map(|s| (NO_RANKER, s)))
        .transpose()
}

/// The shipped default asked to fill its budget (no relevance floor).
pub(crate) const FILL: &str = "default, fill";

/// The shipped default's steps after its first `skip`, as [`FILL`].
pub(crate) fn fill_method(skip: usize) -> Result<(&'static str, String), EvalError> {
    Ok((FILL, shipped_steps("default", skip)?))
}

/// Adds the notices in `new` that `notices` does not hold yet.
pub(crate) fn keep_notices(notices: &mut Vec<String>, new: &[String]) {
    for n in new {
        if !notices.contains(n) {
            notices.push(n.clone());
        }
    }
}

/// Runs each method at each budget on a copy of the pool `base` retrieved
/// once (each in its own context: [`NO_RANKER`] without the ranker,
/// [`FILL`] asked to fill), renders it, and hands `(budget index, method
/// index, state)` to `score`.
pub(crate) fn run_methods<N: AsRef<str>>(
    ctx: &bubble_assembly::Context<'_>,
    base: &bubble_assembly::QueryState,
    budgets: &[usize],
    methods: &[(N, bubble_assembly::Pipeline)],
    what: &str,
    mut score: impl FnMut(usize, usize, &bubble_assembly::QueryState),
) -> Result<(), EvalError> {
    for (b, &budget) in budgets.iter().enumerate() {
        for (m, (name, p)) in methods.iter().enumerate() {
            let name = name.as_ref();
            let ctx = context_for(name, ctx);
            let mut state = base.clone();
            state.budget = budget;
            state.fill = name == FILL;
            state.ops.clear();
            run_pipeline(p, &ctx, &mut state, what)?;
            bubble_assembly::fit_budget(&ctx, &mut state, "render");
            score(b, m, &state);
        }
    }
    Ok(())
}

/// Runs `pipeline` on `state`; a failure names `what` was asked (a question).
pub(crate) fn run_pipeline(
    pipeline: &bubble_assembly::Pipeline,
    ctx: &bubble_assembly::Context<'_>,
    state: &mut bubble_assembly::QueryState,
    what: &str,
) -> Result<(), EvalError> {
    pipeline.run(ctx, state).map_err(|e| EvalError::Format {
        what: what.to_string(),
        detail: e.to_string(),
    })
}

/// The candidate pool `retrieve` finds for `query` (no budget yet), its
/// notices added to `notices`; a failure names `what` was asked.
pub(crate) fn retrieve_pool(
    retrieve: &bubble_assembly::Pipeline,
    ctx: &bubble_assembly::Context<'_>,
    query: &str,
    what: &str,
    notices: &mut Vec<String>,
) -> Result<bubble_assembly::QueryState, EvalError> {
    let mut pool = bubble_assembly::QueryState::new(query.to_string(), 0);
    run_pipeline(retrieve, ctx, &mut pool, what)?;
    keep_notices(notices, &pool.notices);
    Ok(pool)
}

/// The context method `name` runs in: without the ranker for [`NO_RANKER`].
pub(crate) fn context_for<'a>(
    name: &str,
    ctx: &bubble_assembly::Context<'a>,
) -> bubble_assembly::Context<'a> {
    let mut c = *ctx;
    if name == NO_RANKER {
        c.ranker = None;
    }
    c
}

/// The retrievable blocks of each document, by its record id.
pub(crate) fn blocks_by_record(
    index: &bubble_index::Index,
) -> std::collections::HashMap<String, Vec<u32>> {
    let store = index.store();
    let mut out: std::collections::HashMap<String, Vec<u32>> = Default::default();
    for d in store.docs() {
        let Some(record) = d.metadata.get("record") else {
            continue;
        };
        let blocks = d
            .spans
            .clone()
            .filter(|&o| store.kind(o).is_some_and(|k| k.is_retrievable()));
        out.entry(record.clone()).or_default().extend(blocks);
    }
    out
}

/// The token counter of an index's own tokenizer, which budgets are counted in.
fn index_counter(
    index: &dyn bubble_index::Corpus,
) -> Result<bubble_index::bubble_ingest::TokenCounter, EvalError> {
    bubble_index::bubble_ingest::TokenCounter::by_name(&index.manifest().tokenizer)
        .map_err(|e| bubble_index::IndexError::from(e).into())
}

/// A data file a test reads when it is there (`rel` from the crate's
/// folder), else `None` with a note: the evaluation data is fetched, never
/// committed.
#[cfg(test)]
pub(crate) fn optional_data(rel: &str) -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    if p.exists() {
        Some(p)
    } else {
        println!(
            "skipping: {} not found (scripts/fetch-eval-data fetches it)",
            p.display()
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_method_is_the_default_pipeline_on_sentence_units() {
        let steps: Vec<serde_json::Value> =
            serde_json::from_str(&shipped_on_sentences("default").unwrap()).unwrap();
        let ops: Vec<&str> = steps.iter().filter_map(|s| s["op"].as_str()).collect();
        assert_eq!(ops, ["fuse", "rank", "units", "bubble", "rank", "render"]);
        assert_eq!(steps[3]["min_relevance"], 0.4);
        let retrieve: Vec<serde_json::Value> =
            serde_json::from_str(&shipped_retrieve(200).unwrap()).unwrap();
        assert_eq!(retrieve.len(), 1);
        assert_eq!(retrieve[0]["op"], "retrieve");
        assert_eq!(retrieve[0]["depth"], 200);
    }
}
