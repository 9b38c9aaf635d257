//! The audit trace: for every candidate, its scores and why it is in or
//! out; per operator, what it did; a summary of reasons. Identical for
//! identical input apart from the `ms` timing fields.

use crate::candidate::Candidate;
use crate::ops::compress::CompressionTrace;
use crate::pipeline::PipelineSpec;
use crate::state::{OpRecord, QueryState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The request as the trace records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceRequest {
    /// The query.
    pub query: String,
    /// The token budget.
    pub budget: usize,
    /// The tokenizer the budget is counted in.
    pub tokenizer: String,
    /// The pipeline's name.
    pub pipeline: String,
    /// Whether the caller asked to fill the budget.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fill: bool,
    /// The request's restriction of retrieval (paths, kinds), if any.
    #[serde(
        default,
        skip_serializing_if = "bubble_retrieval::SpanFilter::is_empty"
    )]
    pub filter: bubble_retrieval::SpanFilter,
}

/// Which index answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceIndex {
    /// The manifest's content id.
    pub manifest_id: String,
    /// The generation number.
    pub generation: u64,
    /// The embedding model, or `None` for BM25-only.
    pub embedding_model: Option<String>,
}

/// Counts over the candidates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceSummary {
    /// Candidates considered.
    pub candidates: usize,
    /// Spans in the bubble.
    pub selected: usize,
    /// Decisions by reason (`expanded_from:*` counted as `expanded_from`,
    /// and so on).
    pub reasons: BTreeMap<String, usize>,
    /// Tokens of the rendered bubble.
    pub tokens_used: usize,
    /// The budget.
    pub budget: usize,
}

/// The whole trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// A content id of (request, pipeline, index): equal inputs, equal ids.
    pub trace_id: String,
    /// The request.
    pub request: TraceRequest,
    /// The pipeline that ran, as written.
    pub pipeline: PipelineSpec,
    /// The index.
    pub index: TraceIndex,
    /// Every candidate, in order of first appearance.
    pub candidates: Vec<Candidate>,
    /// Every operator run, in order.
    pub operators: Vec<OpRecord>,
    /// Counts.
    pub summary: TraceSummary,
    /// Notices (BM25 only...).
    pub notices: Vec<String>,
    /// What `compress` decided per group and unit, if it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<CompressionTrace>,
}

impl Trace {
    /// Builds the trace of a finished request.
    pub fn new(
        request: TraceRequest,
        pipeline: PipelineSpec,
        index: TraceIndex,
        state: &QueryState,
    ) -> Trace {
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        for c in &state.candidates {
            let reason = c
                .decision
                .as_ref()
                .map_or("undecided", |d| d.reason.as_ref());
            let key = reason.split(':').next().unwrap_or(reason).to_string();
            *reasons.entry(key).or_default() += 1;
        }
        // Notices say whether dense retrieval ran: part of what made the result.
        let id_src = serde_json::to_string(&(&request, &pipeline, &index, &state.notices))
            .unwrap_or_default();
        Trace {
            trace_id: blake3::hash(id_src.as_bytes()).to_hex()[..16].to_string(),
            summary: TraceSummary {
                candidates: state.candidates.len(),
                selected: state.selected.len(),
                reasons,
                tokens_used: state.rendered.as_ref().map_or(0, |r| r.tokens),
                budget: state.budget,
            },
            request,
            pipeline,
            index,
            candidates: state.candidates.clone(),
            operators: state.ops.clone(),
            notices: state.notices.clone(),
            compression: state.compression.clone(),
        }
    }

    /// A readable table: one line per candidate, in decision order.
    pub fn to_table(&self) -> String {
        let mut s = format!(
            "trace {}  query {:?}  budget {} ({})  pipeline {}\n",
            self.trace_id,
            self.request.query,
            self.request.budget,
            self.request.tokenizer,
            self.request.pipeline
        );
        s += &format!(
            "{:<4} {:<16} {:<13} {:>6} {:>7} {:>7} {:>6} {:>5} {:>5} {:>6} {:>5} {:>6} {:>6}  {:<26} {}\n",
            "in",
            "span",
            "kind",
            "tokens",
            "bm25",
            "dense",
            "cover",
            "link",
            "named",
            "newsec",
            "facet",
            "redund",
            "final",
            "reason",
            "source"
        );
        let ch = |c: &Option<bubble_retrieval::ChannelScore>| {
            c.map_or("-".to_string(), |c| format!("#{}", c.position))
        };
        let mut rows: Vec<&Candidate> = self.candidates.iter().collect();
        rows.sort_by(|a, b| {
            b.is_selected()
                .cmp(&a.is_selected())
                .then(b.scores.final_score.total_cmp(&a.scores.final_score))
                .then(a.span_id.cmp(&b.span_id))
        });
        for c in rows {
            let reason = c
                .decision
                .as_ref()
                .map_or("undecided", |d| d.reason.as_ref());
            s += &format!(
                "{:<4} {:<16} {:<13} {:>6} {:>7} {:>7} {:>6.2} {:>5.2} {:>5.2} {:>6.2} {:>5.2} {:>6.2} {:>6.3}  {:<26} {}\n",
                if c.is_selected() { "yes" } else { "no" },
                c.span_id,
                c.kind.as_str(),
                c.tokens,
                ch(&c.scores.bm25),
                ch(&c.scores.dense),
                c.scores.coverage_gain,
                c.scores.link,
                c.scores.named_row,
                c.scores.new_section,
                c.scores.facet_gain,
                c.scores.redundancy,
                c.scores.final_score,
                reason,
                c.source
            );
        }
        s += &format!(
            "summary: {} candidates, {} selected, {} of {} tokens; ",
            self.summary.candidates,
            self.summary.selected,
            self.summary.tokens_used,
            self.summary.budget
        );
        let reasons: Vec<String> = self
            .summary
            .reasons
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        s += &reasons.join(", ");
        s.push('\n');
        if let Some(c) = &self.compression {
            s += &compression_table(c);
        }
        for o in &self.operators {
            s += &format!(
                "op {:<8} {:>4} -> {:<4} selected {:<3} {:>7.2} ms  {}\n",
                o.op, o.candidates_in, o.candidates_out, o.selected_out, o.ms, o.note
            );
        }
        s
    }
}

/// The compression part of [`Trace::to_table`]: groups, then units.
fn compression_table(c: &CompressionTrace) -> String {
    let mut s = format!(
        "compress {:?}: {} of {} unit tokens kept (target {}, {} round(s))\n",
        c.method, c.kept_tokens, c.input_tokens, c.target, c.rounds
    );
    for (i, g) in c.groups.iter().enumerate() {
        s += &format!(
            "  group {i:<3} rel {:>6.3} red {:>6.3} mig {:>6.3} allotment {:>5} kept {:>5}  {}\n",
            g.rel, g.red, g.mig, g.allotment, g.kept, g.group
        );
    }
    for u in &c.units {
        s += &format!(
            "  unit {:<16} group {:<3} tokens {:>4} rel {:>6.3} red {:>6.3} mig {:>6.3}  {}\n",
            u.span_id, u.group, u.tokens, u.rel, u.red, u.mig, u.decision
        );
    }
    s
}
