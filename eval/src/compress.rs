//! The compression benchmark: every method under the same hard budget
//! (kept tokens ≤ rate × the context's tokens), on three kinds of context,
//! with and without near duplicates.
//!
//! - SQuAD 2.0 dev, answerable questions: the gold paragraph and the four
//!   after it in its article; a question is kept when an answer survives.
//! - HotpotQA (the pooled index of `eval bubble`): the default pipeline's
//!   1,024-token bubble; supporting sentences kept, and both gold
//!   paragraphs' supporting sentences all kept.
//! - SciFact test claims with rationales: the hybrid top 10 abstracts;
//!   evidence sentences kept (of those in the context).
//!
//! With duplicates, every block of the context comes with a copy-edited
//! twin in another document (`near_duplicates`: clauses reordered, stop
//! words dropped, synonyms), so the context holds every fact twice. The
//! budget stays that of the original context: a method that keeps both
//! copies of a fact has spent its budget twice on it. A kept duplicate
//! counts for the sentence it copies.
//!
//! Every method runs the shipped `compress` operator on the same selected
//! spans, so the numbers are those of the operator a pipeline runs.

use crate::metrics::{mean, percentile};
use crate::EvalError;
use bubble_assembly::{Context, Pipeline, QueryState};
use bubble_index::{Embedder, Index};
use bubble_retrieval::Retriever;
use serde::{Deserialize, Serialize};

mod datasets;

pub use datasets::Dataset;

/// The methods compared, as the `compress` step's parameters.
pub const METHODS: [(&str, &str); 5] = [
    ("random", r#""method": "random""#),
    ("lead", r#""method": "lead""#),
    ("query-similarity", r#""method": "query_similarity""#),
    ("mig-flat", r#""method": "mig_flat""#),
    ("mig", r#""method": "mig""#),
];

/// Where and how to run.
#[derive(Debug, Clone)]
pub struct CompressEvalOptions {
    /// Folder for corpora and indexes (reused between runs).
    pub work_dir: std::path::PathBuf,
    /// Which contexts.
    pub dataset: Dataset,
    /// The dataset file (SQuAD or HotpotQA JSON, SciFact zip).
    pub data: std::path::PathBuf,
    /// Keep rates.
    pub rates: Vec<f32>,
    /// Questions (claims) evaluated, at most.
    pub questions: usize,
    /// Extra `compress` parameters for every MIG run (a JSON object's
    /// members, e.g. `"temperature": 0.2`), for sensitivity runs.
    pub mig_params: String,
}

/// One context to compress and what counts as kept information.
pub struct Case {
    /// The question.
    pub query: String,
    /// Its vector.
    pub query_vector: Vec<f32>,
    /// Block ords of the context, without duplicates.
    pub blocks: Vec<u32>,
    /// The near-duplicate twin of each block (same order), if any.
    pub twins: Vec<u32>,
    /// The sentence each unit of a twin copies (by the twin unit's ord).
    pub twin_of: std::collections::HashMap<u32, String>,
    /// The facts: each a list of normalised texts that must all be kept
    /// (SQuAD: one fact, any answer string; HotpotQA and SciFact: one fact
    /// per supporting sentence).
    pub facts: Vec<Fact>,
}

/// What must survive compression.
pub enum Fact {
    /// Any of these answers, in the kept text (SQuAD normalisation).
    Answer(Vec<String>),
    /// This sentence, whole, in the kept text (whitespace collapsed).
    Sentence(String),
}

/// One method at one rate on one variant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompressRow {
    /// `plain` or `duplicates`.
    pub variant: String,
    /// Method.
    pub method: String,
    /// Keep rate.
    pub rate: f32,
    /// Share of facts kept (answers, supporting or evidence sentences).
    pub retention: f64,
    /// Share of contexts with every fact kept (HotpotQA: both gold
    /// paragraphs' supporting sentences).
    pub all_kept: f64,
    /// Kept tokens over the budget's base (the context without duplicates).
    pub kept_share: f64,
    /// Median milliseconds of the compress operator.
    pub p50_ms: f64,
}

/// The result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompressEval {
    /// Dataset name.
    pub dataset: String,
    /// Contexts evaluated.
    pub contexts: usize,
    /// Mean tokens of a context (without duplicates).
    pub context_tokens: f64,
    /// Share of facts in the uncompressed contexts (the ceiling).
    pub ceiling: f64,
    /// Share of contexts with every fact, uncompressed.
    pub ceiling_all: f64,
    /// One row per variant, rate and method.
    pub rows: Vec<CompressRow>,
}

impl CompressEval {
    /// A Markdown table.
    pub fn to_table(&self) -> String {
        let mut s = format!(
            "{}: {} contexts of {:.0} tokens on average; uncompressed they hold {:.3} of the facts ({:.3} of the contexts all of theirs)\n\n\
             | variant | rate | method | retention | all facts | kept / budget base | p50 ms |\n|---|---|---|---|---|---|---|\n",
            self.dataset, self.contexts, self.context_tokens, self.ceiling, self.ceiling_all
        );
        for r in &self.rows {
            s += &format!(
                "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.2} |\n",
                r.variant, r.rate, r.method, r.retention, r.all_kept, r.kept_share, r.p50_ms
            );
        }
        s
    }
}

/// Runs the compression benchmark.
pub fn run(
    opts: &CompressEvalOptions,
    embedder: &Embedder,
    progress: &mut dyn FnMut(bubble_index::Progress),
) -> Result<CompressEval, EvalError> {
    let (index, cases) = datasets::prepare(opts, embedder, progress)?;
    let counter = crate::index_counter(&index)?;
    let ctx = Context {
        retriever: Retriever::new(&index, Some(embedder)),
        counter: &counter,
        ranker: None,
    };
    let with_twins = cases.iter().any(|c| !c.twins.is_empty());
    let variants: &[&str] = if with_twins {
        &["plain", "duplicates"]
    } else {
        &["plain"]
    };
    let base: Vec<usize> = cases
        .iter()
        .map(|c| unit_tokens(&index, &c.blocks))
        .collect();
    let (ceiling, ceiling_all) = {
        let scored: Vec<(usize, usize, bool)> = cases
            .iter()
            .map(|c| score(&index, c, &all_units(&index, &c.blocks)))
            .collect();
        fact_shares(&scored)
    };
    let mut rows = Vec::new();
    for &variant in variants {
        for &rate in &opts.rates {
            for (name, params) in METHODS {
                let extra = if name.starts_with("mig") && !opts.mig_params.is_empty() {
                    format!(", {}", opts.mig_params)
                } else {
                    String::new()
                };
                let (mut scored, mut ms, mut kept) = (Vec::new(), Vec::new(), Vec::new());
                for (c, &tokens) in cases.iter().zip(&base) {
                    let spans: Vec<u32> = match variant {
                        "plain" => c.blocks.clone(),
                        _ => c.blocks.iter().chain(&c.twins).copied().collect(),
                    };
                    // The budget is the original context's: the rate of
                    // the input that gives rate × original tokens.
                    let input = unit_tokens(&index, &spans).max(1);
                    let r = (f64::from(rate) * tokens as f64 / input as f64).min(1.0);
                    let steps = format!(r#"[{{"op": "compress", "rate": {r}, {params}{extra}}}]"#);
                    let pipeline = crate::pipeline(name, &steps)?;
                    let (units, op_ms, kept_tokens) = compress_case(&ctx, &pipeline, c, &spans)?;
                    scored.push(score(&index, c, &units));
                    ms.push(op_ms);
                    kept.push(kept_tokens as f64 / tokens.max(1) as f64);
                }
                let (retention, all_kept) = fact_shares(&scored);
                rows.push(CompressRow {
                    variant: variant.to_string(),
                    method: name.to_string(),
                    rate,
                    retention,
                    all_kept,
                    kept_share: mean(&kept),
                    p50_ms: percentile(&ms, 50.0),
                });
            }
        }
    }
    Ok(CompressEval {
        dataset: opts.dataset.name().to_string(),
        contexts: cases.len(),
        context_tokens: mean(&base.iter().map(|&t| t as f64).collect::<Vec<_>>()),
        ceiling,
        ceiling_all,
        rows,
    })
}

/// Tokens of the units of `blocks`.
fn unit_tokens(index: &Index, blocks: &[u32]) -> usize {
    all_units(index, blocks)
        .iter()
        .filter_map(|&u| index.store().span(u))
        .map(|s| s.tokens as usize)
        .sum()
}

fn all_units(index: &Index, blocks: &[u32]) -> Vec<u32> {
    blocks
        .iter()
        .flat_map(|&b| index.store().units_of(b))
        .collect()
}

/// Runs `pipeline` (one `compress` step) on the spans selected as they
/// are; returns the kept units in source order, the operator's
/// milliseconds and the kept tokens.
fn compress_case(
    ctx: &Context<'_>,
    pipeline: &Pipeline,
    case: &Case,
    spans: &[u32],
) -> Result<(Vec<u32>, f64, usize), EvalError> {
    let mut state = QueryState::new(case.query.clone(), usize::MAX / 4);
    state.query_vector = Some(case.query_vector.clone());
    let hits: Vec<_> = spans
        .iter()
        .filter_map(|&o| ctx.retriever.hit(o, 1.0, None, None))
        .collect();
    state.add_hits(&hits);
    for i in 0..state.candidates.len() {
        state.candidates[i].decide(true, "selected", "eval");
        state.selected.push(i);
    }
    pipeline
        .run(ctx, &mut state)
        .map_err(|e| EvalError::Format {
            what: format!("compressing for {:?}", case.query),
            detail: e.to_string(),
        })?;
    let mut units: Vec<u32> = state
        .excerpts
        .values()
        .flat_map(|e| e.kept.iter().copied())
        .collect();
    units.sort_unstable();
    let ms = state
        .ops
        .iter()
        .filter(|o| o.op == "compress")
        .map(|o| o.ms)
        .sum();
    let kept = state.compression.as_ref().map_or(0, |c| c.kept_tokens);
    Ok((units, ms, kept))
}

/// (facts kept, facts, every fact kept) of one case: the kept text is the
/// kept units in source order, a kept twin unit standing for the sentence
/// it copies.
fn score(index: &Index, case: &Case, units: &[u32]) -> (usize, usize, bool) {
    let store = index.store();
    let text: Vec<String> = units
        .iter()
        .filter_map(|&u| {
            let own = store.span(u).map(|s| s.text);
            case.twin_of.get(&u).cloned().or(own)
        })
        .collect();
    let joined = text.join(" ");
    let flat = crate::bubble::norm(&joined);
    let kept = case
        .facts
        .iter()
        .filter(|f| match f {
            Fact::Answer(answers) => crate::squad::contains_answer(&joined, answers),
            Fact::Sentence(s) => flat.contains(s.as_str()),
        })
        .count();
    (kept, case.facts.len(), kept == case.facts.len())
}

/// Shares of facts kept and of cases with every fact kept.
fn fact_shares(scored: &[(usize, usize, bool)]) -> (f64, f64) {
    let kept: usize = scored.iter().map(|s| s.0).sum();
    let total: usize = scored.iter().map(|s| s.1).sum();
    let all = scored.iter().filter(|s| s.2).count();
    (
        kept as f64 / total.max(1) as f64,
        all as f64 / scored.len().max(1) as f64,
    )
}
