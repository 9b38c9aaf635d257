//! Assembly: from retrieved candidates to a context bubble.
//!
//! This crate owns the operator pipeline (an [`Operator`] trait over a
//! shared [`QueryState`]; pipelines as data with linear, conditional,
//! branching and loop flows), the bubble operator (the paper's gates, and
//! Bubble's default mode with coverage gain, embedding redundancy, caps and
//! structural expansion), ranking, rendering with citations under a budget
//! counted on the rendered text, and the audit trace. It reads the index
//! through `bubble-retrieval` and never writes it; it knows nothing of HTTP.
//!
//! Why operators over shared state: every stage sees and amends one list of
//! candidates, so the trace is a by-product of running, not a reconstruction.
#![deny(missing_docs)]

mod budget;
mod candidate;
mod cost;
mod error;
mod excerpt;
mod operator;
pub mod ops;
mod pipeline;
pub mod pipelines;
mod render;
mod state;
mod table;
mod text;
mod trace;

use bubble_retrieval::SpanFilter;
pub use budget::fit_budget;
pub use candidate::{Candidate, Decision, Scores};
pub use cost::CostModel;
pub use error::AssemblyError;
pub use excerpt::{shown_text, Excerpt, Excerpts, SpanText, ELISION};
pub use operator::Operator;
pub use pipeline::{coverage, Choose, Pipeline, PipelineSpec, Predicate};
pub use render::{render, Citation, Duplicates, Rendered, Shown, UnitCitation};
pub use state::{Context, OpRecord, QueryState};
pub use trace::{Trace, TraceIndex, TraceRequest, TraceSummary};

/// A finished bubble and its trace.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BubbleOutput {
    /// The rendered bubble (text, citations, tokens used, budget).
    pub bubble: Rendered,
    /// The selected spans, in rendering order, with their text.
    pub spans: Vec<BubbleSpan>,
    /// The trace's id.
    pub trace_id: String,
    /// Notices (BM25 only...).
    pub notices: Vec<String>,
}

/// One span of a bubble.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BubbleSpan {
    /// Citation marker.
    pub marker: usize,
    /// Span id.
    pub span_id: String,
    /// Kind.
    pub kind: bubble_index::bubble_ingest::SpanKind,
    /// Text as shown (the kept units of a compressed span, with elisions).
    pub text: String,
    /// Tokens of the span's whole text.
    pub tokens: u32,
    /// Why it is in (`selected`, `expanded_from:<id>`, `whole_table:<id>` or `whole_section:<id>`).
    pub reason: String,
}

/// Runs `pipeline` for `query` under `budget` tokens of the context's tokenizer.
/// The result never exceeds the budget, whatever the pipeline does.
pub fn assemble(
    ctx: &Context<'_>,
    pipeline: &Pipeline,
    query: &str,
    budget: usize,
) -> Result<(BubbleOutput, Trace), AssemblyError> {
    assemble_with(ctx, pipeline, query, budget, false)
}

/// [`assemble`], and with `fill` the bubble's relevance floor off: it
/// stops only when nothing more fits (for broad questions that need many
/// sources, where stopping early starves them).
pub fn assemble_with(
    ctx: &Context<'_>,
    pipeline: &Pipeline,
    query: &str,
    budget: usize,
    fill: bool,
) -> Result<(BubbleOutput, Trace), AssemblyError> {
    assemble_filtered(ctx, pipeline, query, budget, fill, SpanFilter::default())
}

/// [`assemble_with`], retrieving only what `filter` allows (its paths and
/// kinds narrow every retrieve step's own).
pub fn assemble_filtered(
    ctx: &Context<'_>,
    pipeline: &Pipeline,
    query: &str,
    budget: usize,
    fill: bool,
    filter: SpanFilter,
) -> Result<(BubbleOutput, Trace), AssemblyError> {
    if query.trim().is_empty() {
        return Err(AssemblyError::Request("empty query".into()));
    }
    let mut state = QueryState::new(query, budget);
    state.fill = fill;
    state.filter = filter;
    pipeline.run(ctx, &mut state)?;
    // The budget is a promise: render (again) if the pipeline did not end with it.
    fit_budget(ctx, &mut state, "render");
    let index = ctx.retriever.corpus();
    let manifest = index.manifest();
    let trace = Trace::new(
        TraceRequest {
            query: query.to_string(),
            budget,
            tokenizer: ctx.counter.name().to_string(),
            pipeline: pipeline.name().to_string(),
            fill,
            filter: state.filter.clone(),
        },
        pipeline.spec().clone(),
        TraceIndex {
            manifest_id: manifest.id.clone(),
            generation: manifest.generation,
            embedding_model: manifest.embedding.as_ref().map(|e| e.model.clone()),
        },
        &state,
    );
    let bubble = state.rendered.clone().unwrap_or(Rendered {
        text: String::new(),
        citations: Vec::new(),
        tokens: 0,
        budget,
    });
    let spans = bubble
        .citations
        .iter()
        .filter_map(|cit| {
            let i = state
                .candidates
                .iter()
                .position(|c| c.span_id == cit.span_id)?;
            let c = &state.candidates[i];
            Some(BubbleSpan {
                marker: cit.marker,
                span_id: c.span_id.clone(),
                kind: c.kind,
                text: shown_text(index, c.ord, &state.excerpts).into_text(),
                tokens: c.tokens,
                reason: c
                    .decision
                    .as_ref()
                    .map_or(String::new(), |d| d.reason.to_string()),
            })
        })
        .collect();
    // Every lookup above read spans and vectors that a damaged block may
    // have turned into "absent": no bubble is built on them.
    index
        .damage()
        .map_err(bubble_retrieval::RetrievalError::from)?;
    Ok((
        BubbleOutput {
            bubble,
            spans,
            trace_id: trace.trace_id.clone(),
            notices: state.notices.clone(),
        },
        trace,
    ))
}
