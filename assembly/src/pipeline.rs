//! Pipelines as data: named operators with parameters, composed with the
//! four flow patterns of Modular RAG.
//!
//! ```json
//! {"name": "multi-hop", "steps": [
//!   {"op": "retrieve", "depth": 100},
//!   {"if": {"query_has_number": true}, "then": [{"op": "expand"}]},
//!   {"loop": [{"op": "retrieve", "query": "expanded"}, {"op": "bubble"}], "max": 2},
//!   {"branch": [[{"op": "bubble", "mode": "paper"}], [{"op": "bubble"}]], "choose": "coverage"},
//!   {"op": "rank"}, {"op": "render"}]}
//! ```
//!
//! A spec is validated when it is built: an unknown operator, parameter or
//! flow is an error naming the step, before any request runs.

use crate::operator::Operator;
use crate::ops::bubble::{Bubble, BubbleParams};
use crate::ops::compress::{Compress, CompressParams};
use crate::ops::rank::{Rank, RankParams};
use crate::ops::render::Render;
use crate::ops::retrieve::{Expand, ExpandParams, Fuse, Retrieve, RetrieveParams};
use crate::ops::units::{Units, UnitsParams};
use crate::state::{Context, OpRecord, QueryState};
use crate::text::query_terms;
use crate::AssemblyError;
use bubble_retrieval::Fusion;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Instant;

/// A pipeline as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    /// Its name.
    pub name: String,
    /// Steps, run in order.
    pub steps: Vec<Value>,
}

/// A predicate over the query or the state, for conditional steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Predicate {
    /// The query mentions a number or a comparison ("vs", "cheaper", "more than"...).
    QueryHasNumber(bool),
    /// The query has at least this many content words.
    QueryTermsAtLeast(usize),
    /// Fewer than this share of the query's terms are covered by the bubble.
    CoverageBelow(f32),
}

impl Predicate {
    fn holds(&self, state: &QueryState, ctx: &Context<'_>) -> bool {
        match self {
            Predicate::QueryHasNumber(want) => has_number_or_comparison(&state.query) == *want,
            Predicate::QueryTermsAtLeast(n) => query_terms(&state.query).len() >= *n,
            Predicate::CoverageBelow(x) => coverage(state, ctx) < *x,
        }
    }
}

fn has_number_or_comparison(q: &str) -> bool {
    const COMPARE: &[&str] = &[
        "vs",
        "versus",
        "compare",
        "cheaper",
        "more",
        "less",
        "than",
        "difference",
        "between",
        "most",
        "least",
    ];
    q.chars().any(|c| c.is_ascii_digit())
        || query_terms(q).iter().any(|t| COMPARE.contains(&t.as_str()))
}

/// Share of the query's content words found in the selected spans.
pub fn coverage(state: &QueryState, ctx: &Context<'_>) -> f32 {
    let terms = query_terms(&state.query);
    if terms.is_empty() {
        return 1.0;
    }
    let store = ctx.retriever.corpus();
    let mut text = String::new();
    for &i in &state.selected {
        text.push_str(
            store
                .span(state.candidates[i].ord)
                .map_or(String::new(), |s| s.text)
                .as_str(),
        );
        text.push(' ');
        text.push_str(&state.candidates[i].section.join(" "));
        text.push(' ');
    }
    let have: std::collections::HashSet<String> = crate::text::words(&text).collect();
    terms.iter().filter(|t| have.contains(*t)).count() as f32 / terms.len() as f32
}

/// How a branching step picks its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choose {
    /// The branch whose bubble covers most query terms (ties: the first).
    Coverage,
    /// The branch whose bubble has the highest mean rank score (ties: the first).
    Rank,
}

/// A validated, runnable step.
#[derive(Debug)]
enum Step {
    Op(Box<dyn Operator>),
    If {
        when: Predicate,
        then: Vec<Step>,
        otherwise: Vec<Step>,
    },
    Branch {
        branches: Vec<Vec<Step>>,
        choose: Choose,
    },
    Loop {
        body: Vec<Step>,
        max: usize,
    },
}

/// A validated pipeline.
#[derive(Debug)]
pub struct Pipeline {
    name: String,
    spec: PipelineSpec,
    steps: Vec<Step>,
}

impl Pipeline {
    /// Validates a spec.
    pub fn from_spec(spec: PipelineSpec) -> Result<Pipeline, AssemblyError> {
        let err = |detail: String| AssemblyError::Pipeline {
            pipeline: spec.name.clone(),
            detail,
        };
        if spec.steps.is_empty() {
            return Err(err("no steps".into()));
        }
        let steps = build_steps(&spec.steps, "steps").map_err(err)?;
        Ok(Pipeline {
            name: spec.name.clone(),
            spec,
            steps,
        })
    }

    /// Parses and validates a JSON spec.
    pub fn from_json(json: &str) -> Result<Pipeline, AssemblyError> {
        let spec: PipelineSpec =
            serde_json::from_str(json).map_err(|e| AssemblyError::Pipeline {
                pipeline: "<inline>".into(),
                detail: e.to_string(),
            })?;
        Pipeline::from_spec(spec)
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The spec it was built from (for the trace).
    pub fn spec(&self) -> &PipelineSpec {
        &self.spec
    }

    /// Runs every step on `state`.
    pub fn run(&self, ctx: &Context<'_>, state: &mut QueryState) -> Result<(), AssemblyError> {
        run_steps(&self.steps, ctx, state)
    }
}

fn build_steps(values: &[Value], at: &str) -> Result<Vec<Step>, String> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| build_step(v, &format!("{at}[{i}]")))
        .collect()
}

fn build_step(v: &Value, at: &str) -> Result<Step, String> {
    let obj = v
        .as_object()
        .ok_or_else(|| format!("{at}: a step is an object"))?;
    let known = |keys: &[&str]| -> Result<(), String> {
        match obj.keys().find(|k| !keys.contains(&k.as_str())) {
            Some(k) => Err(format!("{at}: unknown key {k:?}")),
            None => Ok(()),
        }
    };
    if let Some(name) = obj.get("op") {
        let name = name
            .as_str()
            .ok_or_else(|| format!("{at}: \"op\" must be a string"))?;
        let mut params = obj.clone();
        params.remove("op");
        return build_op(name, Value::Object(params))
            .map(Step::Op)
            .map_err(|e| format!("{at} ({name}): {e}"));
    }
    if let Some(when) = obj.get("if") {
        known(&["if", "then", "else"])?;
        let when: Predicate = serde_json::from_value(when.clone())
            .map_err(|e| format!("{at}: bad predicate: {e}"))?;
        let list = |key: &str| -> Result<Vec<Step>, String> {
            match obj.get(key) {
                None => Ok(Vec::new()),
                Some(Value::Array(a)) => build_steps(a, &format!("{at}.{key}")),
                Some(_) => Err(format!("{at}: \"{key}\" must be a list of steps")),
            }
        };
        return Ok(Step::If {
            when,
            then: list("then")?,
            otherwise: list("else")?,
        });
    }
    if let Some(branches) = obj.get("branch") {
        known(&["branch", "choose"])?;
        let arr = branches
            .as_array()
            .filter(|a| a.len() >= 2)
            .ok_or_else(|| format!("{at}: \"branch\" needs two or more step lists"))?;
        let branches = arr
            .iter()
            .enumerate()
            .map(|(i, b)| match b {
                Value::Array(a) => build_steps(a, &format!("{at}.branch[{i}]")),
                _ => Err(format!("{at}.branch[{i}]: a branch is a list of steps")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let choose = match obj.get("choose") {
            None => Choose::Coverage,
            Some(c) => {
                serde_json::from_value(c.clone()).map_err(|e| format!("{at}: bad choose: {e}"))?
            }
        };
        return Ok(Step::Branch { branches, choose });
    }
    if let Some(body) = obj.get("loop") {
        known(&["loop", "max"])?;
        let body = match body {
            Value::Array(a) if !a.is_empty() => build_steps(a, &format!("{at}.loop"))?,
            _ => return Err(format!("{at}: \"loop\" must be a non-empty list of steps")),
        };
        let max = obj
            .get("max")
            .map_or(Some(3), Value::as_u64)
            .filter(|m| (1..=10).contains(m))
            .ok_or_else(|| format!("{at}: \"max\" must be 1 to 10"))?;
        return Ok(Step::Loop {
            body,
            max: max as usize,
        });
    }
    Err(format!(
        "{at}: a step has \"op\", \"if\", \"branch\" or \"loop\""
    ))
}

fn params<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| e.to_string())
}

fn build_op(name: &str, p: Value) -> Result<Box<dyn Operator>, String> {
    Ok(match name {
        "retrieve" => Box::new(Retrieve::new(params::<RetrieveParams>(p)?)?),
        "fuse" => {
            let fusion = if p.as_object().is_some_and(|o| o.is_empty()) {
                Fusion::default()
            } else {
                params::<Fusion>(p)?
            };
            bubble_retrieval::limits::check_fusion(fusion).map_err(|e| e.to_string())?;
            Box::new(Fuse::new(fusion))
        }
        "expand" => Box::new(Expand::new(params::<ExpandParams>(p)?)),
        "units" => Box::new(Units::new(params::<UnitsParams>(p)?)?),
        "bubble" => Box::new(Bubble::new(params::<BubbleParams>(p)?)?),
        "compress" => Box::new(Compress::new(params::<CompressParams>(p)?)?),
        "rank" => Box::new(Rank::new(params::<RankParams>(p)?)?),
        "render" => {
            if p.as_object().is_some_and(|o| !o.is_empty()) {
                return Err("takes no parameters".into());
            }
            Box::new(Render)
        }
        other => {
            return Err(format!(
                "unknown operator {other:?} (retrieve, fuse, expand, units, bubble, compress, rank, render)"
            ))
        }
    })
}

fn run_steps(
    steps: &[Step],
    ctx: &Context<'_>,
    state: &mut QueryState,
) -> Result<(), AssemblyError> {
    for step in steps {
        match step {
            Step::Op(op) => run_op(op.as_ref(), ctx, state)?,
            Step::If {
                when,
                then,
                otherwise,
            } => {
                let holds = when.holds(state, ctx);
                record(state, "if", format!("{when:?} is {holds}"), 0.0);
                run_steps(if holds { then } else { otherwise }, ctx, state)?;
            }
            Step::Branch { branches, choose } => {
                let mut best: Option<(f32, usize, QueryState)> = None;
                for (i, b) in branches.iter().enumerate() {
                    let mut s = state.clone();
                    run_steps(b, ctx, &mut s)?;
                    let score = match choose {
                        Choose::Coverage => coverage(&s, ctx),
                        Choose::Rank => mean_rank(&s),
                    };
                    if best.as_ref().is_none_or(|(b, _, _)| score > *b) {
                        best = Some((score, i, s));
                    }
                }
                if let Some((score, i, s)) = best {
                    *state = s;
                    record(
                        state,
                        "branch",
                        format!("chose branch {i} by {choose:?} ({score:.3})"),
                        0.0,
                    );
                }
            }
            Step::Loop { body, max } => {
                let mut last = coverage(state, ctx);
                let mut rounds = 0;
                for _ in 0..*max {
                    run_steps(body, ctx, state)?;
                    rounds += 1;
                    let now = coverage(state, ctx);
                    // Stop when another round adds no coverage.
                    if now <= last && rounds > 1 {
                        break;
                    }
                    last = now;
                }
                record(
                    state,
                    "loop",
                    format!("{rounds} round(s), coverage {last:.3}"),
                    0.0,
                );
            }
        }
    }
    Ok(())
}

fn mean_rank(s: &QueryState) -> f32 {
    let ranks: Vec<f32> = s
        .selected
        .iter()
        .filter_map(|&i| s.candidates[i].scores.ranker)
        .collect();
    if ranks.is_empty() {
        0.0
    } else {
        ranks.iter().sum::<f32>() / ranks.len() as f32
    }
}

fn run_op(
    op: &dyn Operator,
    ctx: &Context<'_>,
    state: &mut QueryState,
) -> Result<(), AssemblyError> {
    let before = state.candidates.len();
    let t = Instant::now();
    let note = op.run(ctx, state)?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    state.ops.push(OpRecord {
        op: op.name().to_string(),
        candidates_in: before,
        candidates_out: state.candidates.len(),
        selected_out: state.selected.len(),
        note,
        ms,
    });
    Ok(())
}

fn record(state: &mut QueryState, op: &str, note: String, ms: f64) {
    state.ops.push(OpRecord {
        op: op.to_string(),
        candidates_in: state.candidates.len(),
        candidates_out: state.candidates.len(),
        selected_out: state.selected.len(),
        note,
        ms,
    });
}
