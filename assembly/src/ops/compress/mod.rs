//! `compress`: keeps the units (sentences, clauses) of the bubble that
//! carry its information, by marginal information gain (COMI, coarse to
//! fine: `bubble-compress` owns the method), over the unit vectors the
//! index stored — no encoder call. A span keeps its kept units in source
//! order, with elisions where text was cut; a unit folded into a kept one
//! as a near duplicate adds its citation to it.
//!
//! With `tokens` (the default: the request's budget), the target is the
//! rendered budget: the first round aims at the budget minus the headings
//! and markers the input renders with, and up to three more rounds move
//! the unit target by what the rendering missed, keeping the fullest
//! rendering that fits. With `rate`, the target is that share of the input
//! units' tokens (in the index's tokenizer), in one round.

mod input;
mod record;

pub use record::{CompressionTrace, GroupRecord, UnitRecord};

use crate::excerpt::Excerpts;
use crate::operator::Operator;
use crate::render::{render, Shown};
use crate::state::{Context, QueryState};
use crate::AssemblyError;
use bubble_compress::{Compression, Fate, Method, Params, Target};
use serde::{Deserialize, Serialize};

/// What a group is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupLevel {
    /// Each span is a group.
    #[default]
    Span,
    /// Each section (document and heading path) is a group.
    Section,
}

/// Which spans are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputSpans {
    /// The bubble's selected spans.
    #[default]
    Selected,
    /// Every candidate (a whole pool into the budget).
    Candidates,
}

/// Parameters of `compress`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompressParams {
    /// The selection method (`mig`; baselines `mig_flat`, `query_similarity`, `lead`, `random`).
    pub method: Method,
    /// Keep this share (0–1] of the input units' tokens.
    pub rate: Option<f32>,
    /// Fit the rendered bubble into this many tokens (default: the request's budget).
    pub tokens: Option<usize>,
    /// Weight of relevance (α).
    pub alpha: f32,
    /// Weight of redundancy (β).
    pub beta: f32,
    /// Softmax temperature of the coarse allocation.
    pub temperature: f32,
    /// Where redundancy starts, from the input's background similarity (0)
    /// to identity (1).
    pub redundancy_floor: f32,
    /// Relevance added to each block's first unit.
    pub lead_weight: f32,
    /// Every group keeps its best unit first (while the target holds them).
    pub every_group: bool,
    /// Relevance added for the share of the query's content words a unit
    /// contains (the lexical channel hybrid retrieval also has).
    pub lexical_weight: f32,
    /// Cosine at which a unit folds into a kept one; `null`: never.
    pub merge_threshold: Option<f32>,
    /// What a group is.
    pub group: GroupLevel,
    /// Which spans.
    pub input: InputSpans,
    /// Seed of the `random` baseline.
    pub seed: u64,
}

impl Default for CompressParams {
    fn default() -> Self {
        let p = Params::default();
        CompressParams {
            method: p.method,
            rate: None,
            tokens: None,
            alpha: p.alpha,
            beta: p.beta,
            temperature: p.temperature,
            redundancy_floor: p.redundancy_floor,
            lead_weight: p.lead_weight,
            every_group: p.every_group,
            lexical_weight: 0.3,
            merge_threshold: p.merge_threshold,
            group: GroupLevel::Span,
            input: InputSpans::Selected,
            seed: 0,
        }
    }
}

impl CompressParams {
    fn method_params(&self, target: Target) -> Params {
        Params {
            method: self.method,
            target,
            alpha: self.alpha,
            beta: self.beta,
            temperature: self.temperature,
            redundancy_floor: self.redundancy_floor,
            lead_weight: self.lead_weight,
            every_group: self.every_group,
            merge_threshold: self.merge_threshold,
            seed: self.seed,
        }
    }
}

/// Rounds that move the unit target towards the rendered budget.
const ROUNDS: usize = 4;

/// The `compress` operator.
#[derive(Debug, Clone)]
pub struct Compress {
    params: CompressParams,
}

impl Compress {
    /// Validates the parameters.
    pub fn new(params: CompressParams) -> Result<Compress, String> {
        if params.rate.is_some() && params.tokens.is_some() {
            return Err("give rate or tokens, not both".into());
        }
        let target = params.rate.map_or(Target::Tokens(0), Target::Rate);
        params
            .method_params(target)
            .validate()
            .map_err(|e| e.to_string())?;
        Ok(Compress { params })
    }
}

impl Operator for Compress {
    fn name(&self) -> &str {
        "compress"
    }

    fn run(&self, ctx: &Context<'_>, state: &mut QueryState) -> Result<String, AssemblyError> {
        let index = ctx.retriever.corpus();
        let spans: Vec<usize> = match self.params.input {
            InputSpans::Selected => state.selected.clone(),
            InputSpans::Candidates => (0..state.candidates.len()).collect(),
        };
        let Some(mut input) = input::collect(index, &state.candidates, &spans, self.params.group)
        else {
            return Ok(self.uncompressed(state, "the index has no unit vectors"));
        };
        let query = match state.query_vector.clone() {
            Some(q) => q,
            None => match ctx.retriever.embedder() {
                Some(e) if ctx.retriever.dense_unavailable().is_none() => e
                    .embed_query(&state.query)
                    .map_err(|e| AssemblyError::Request(e.to_string()))?,
                _ => return Ok(self.uncompressed(state, "no query vector (BM25 only)")),
            },
        };
        state.query_vector = Some(query.clone());
        if self.params.lexical_weight > 0.0 {
            input::lexical_priors(index, &mut input, &state.query, self.params.lexical_weight);
        }
        let kernels = bubble_compress::kernels::best();
        let run = |target: Target| {
            bubble_compress::compress_with(
                kernels,
                &input.units,
                &query,
                &self.params.method_params(target),
            )
            .map_err(|e| AssemblyError::Request(format!("compress: {e}")))
        };
        let input_tokens = input.units.total_tokens();
        let (compression, rounds) = match self.params.rate {
            Some(r) => (run(Target::Rate(r))?, 1),
            None => {
                let budget = self.params.tokens.unwrap_or(state.budget);
                self.fit_rendered(ctx, state, &input, &spans, budget, &run)?
            }
        };
        let note = format!(
            "{:?}: {} units, {} of {} tokens kept (target {}, {} round(s), {})",
            self.params.method,
            input.units.len(),
            compression.kept_tokens,
            input_tokens,
            compression.target,
            rounds,
            kernels.name()
        );
        apply(state, &input, &spans, &compression, self.params.input);
        state.compression = Some(trace_of(
            ctx,
            &input,
            &compression,
            self.params.method,
            rounds,
        ));
        Ok(note)
    }
}

impl Compress {
    /// Leaves the bubble as it is and says why.
    fn uncompressed(&self, state: &mut QueryState, why: &str) -> String {
        let n = format!("compress skipped: {why}; the bubble is left uncompressed");
        if !state.notices.contains(&n) {
            state.notices.push(n.clone());
        }
        n
    }

    /// Moves the unit target until the rendering fits `budget` as fully as
    /// a few rounds find; returns the fullest fitting compression (or the
    /// last one, which the final render will trim).
    fn fit_rendered(
        &self,
        ctx: &Context<'_>,
        state: &QueryState,
        input: &input::Input,
        spans: &[usize],
        budget: usize,
        run: &dyn Fn(Target) -> Result<Compression, AssemblyError>,
    ) -> Result<(Compression, usize), AssemblyError> {
        let store = ctx.retriever.corpus();
        let rendered = |c: &Compression| {
            let (selected, excerpts) = shown(state, input, spans, c, self.params.input);
            let (text, _) = render(
                store,
                Shown {
                    selected: &selected,
                    excerpts: &excerpts,
                    ..state.shown()
                },
            );
            ctx.counter.count(&text)
        };
        // The first target: the budget less what the input's headings and
        // markers cost when rendered whole.
        let (text, _) = render(
            store,
            Shown {
                selected: spans,
                excerpts: &Excerpts::new(),
                ..state.shown()
            },
        );
        let overhead = ctx
            .counter
            .count(&text)
            .saturating_sub(input.units.total_tokens());
        let mut target = budget.saturating_sub(overhead);
        let mut best: Option<(usize, Compression)> = None;
        let mut last = None;
        let mut rounds = 0;
        for _ in 0..ROUNDS {
            rounds += 1;
            let c = run(Target::Tokens(target))?;
            let tokens = rendered(&c);
            let fits = tokens <= budget;
            if fits && best.as_ref().is_none_or(|(t, _)| tokens > *t) {
                best = Some((tokens, c.clone()));
            }
            // Close enough: the next unit would not fit anyway.
            if fits && budget - tokens <= 4 {
                break;
            }
            let next = (target as i64 + budget as i64 - tokens as i64).max(0) as usize;
            if next == target {
                break;
            }
            target = next;
            last = Some(c);
        }
        let chosen = best.map(|(_, c)| c).or(last);
        match chosen {
            Some(c) => Ok((c, rounds)),
            None => Ok((run(Target::Tokens(target))?, rounds)),
        }
    }
}

/// What a compression shows: excerpts of the spans with a kept unit, and
/// the selection reduced to those spans (in the selection's order, or the
/// input's when the input is the whole pool).
fn shown(
    state: &QueryState,
    input: &input::Input,
    spans: &[usize],
    c: &Compression,
    from: InputSpans,
) -> (Vec<usize>, Excerpts) {
    let ord_of = |u: usize| state.candidates[input.owner[u]].ord;
    let mut excerpts = Excerpts::new();
    for (u, outcome) in c.units.iter().enumerate() {
        match outcome.fate {
            Fate::Kept => excerpts
                .entry(ord_of(u))
                .or_default()
                .kept
                .push(input.unit_ords[u]),
            Fate::MergedInto(k) => excerpts
                .entry(ord_of(k))
                .or_default()
                .merged
                .push((input.unit_ords[k], input.unit_ords[u])),
            Fate::Dropped => {}
        }
    }
    excerpts.retain(|_, e| !e.kept.is_empty());
    let order = match from {
        InputSpans::Selected => state.selected.as_slice(),
        InputSpans::Candidates => spans,
    };
    let selected = order
        .iter()
        .copied()
        .filter(|&i| excerpts.contains_key(&state.candidates[i].ord) || input.whole.contains(&i))
        .collect();
    (selected, excerpts)
}

/// Writes a compression into the state, with a decision for every input
/// span it brings in or leaves out.
fn apply(
    state: &mut QueryState,
    input: &input::Input,
    spans: &[usize],
    c: &Compression,
    from: InputSpans,
) {
    let (selected, excerpts) = shown(state, input, spans, c, from);
    for &i in spans.iter().filter(|i| !input.whole.contains(i)) {
        let c = &mut state.candidates[i];
        if excerpts.contains_key(&c.ord) {
            if !c.is_selected() {
                c.decide(true, "selected", "compress");
            }
        } else if c.is_selected() || from == InputSpans::Candidates {
            c.decide(false, "compressed_out", "compress");
        }
    }
    state.selected = selected;
    state.excerpts = excerpts;
    state.rendered = None;
}

fn trace_of(
    ctx: &Context<'_>,
    input: &input::Input,
    c: &Compression,
    method: Method,
    rounds: usize,
) -> CompressionTrace {
    let store = ctx.retriever.corpus();
    let id = |ord: u32| store.span(ord).map_or_else(String::new, |s| s.id.0.clone());
    CompressionTrace {
        method,
        input_tokens: input.units.total_tokens(),
        target: c.target,
        kept_tokens: c.kept_tokens,
        rounds,
        groups: c
            .groups
            .iter()
            .zip(&input.group_labels)
            .map(|(g, label)| GroupRecord {
                group: label.clone(),
                rel: g.rel,
                red: g.red,
                mig: g.mig,
                allotment: g.allotment,
                kept: g.kept,
            })
            .collect(),
        units: c
            .units
            .iter()
            .enumerate()
            .map(|(u, o)| UnitRecord {
                span_id: id(input.unit_ords[u]),
                group: o.group as usize,
                tokens: input.units.tokens()[u],
                rel: o.rel,
                red: o.red,
                mig: o.mig,
                decision: match o.fate {
                    Fate::Kept => "kept".into(),
                    Fate::Dropped => "dropped".into(),
                    Fate::MergedInto(k) => format!("merged_into:{}", id(input.unit_ords[k])),
                },
            })
            .collect(),
    }
}
