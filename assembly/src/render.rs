//! Rendering a bubble: Markdown grouped by document and section in reading
//! order, citation markers, and the citations themselves. The budget is a
//! promise about *this* text in the caller's tokenizer, so it is counted
//! here, on the final string, and spans are dropped until it holds.

use crate::candidate::Candidate;
use crate::state::{Context, QueryState};
use bubble_index::bubble_ingest::TokenCounter;
use bubble_index::SpanStore;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// Where a cited span comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    /// The marker number in the text (`[n]`).
    pub marker: usize,
    /// Span id.
    pub span_id: String,
    /// Source path.
    pub source: String,
    /// Byte range in the source.
    pub byte_range: Range<usize>,
    /// 1-based line range.
    pub line_range: (u32, u32),
    /// Heading path.
    pub heading_path: Vec<String>,
}

/// A rendered bubble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rendered {
    /// Markdown, ready to paste into a prompt.
    pub text: String,
    /// One citation per marker, in marker order.
    pub citations: Vec<Citation>,
    /// Tokens of `text` in the request's tokenizer.
    pub tokens: usize,
    /// The budget it had to fit.
    pub budget: usize,
}

/// Renders the selected candidates (indices into `candidates`).
pub fn render(
    store: &SpanStore,
    candidates: &[Candidate],
    selected: &[usize],
) -> (String, Vec<Citation>) {
    // Documents in order of their best (first) selection; spans in reading order.
    let mut docs: Vec<&str> = Vec::new();
    for &i in selected {
        let d = candidates[i].doc_id.as_str();
        if !docs.contains(&d) {
            docs.push(d);
        }
    }
    let mut text = String::new();
    let mut citations = Vec::new();
    for doc in docs {
        let mut spans: Vec<&Candidate> = selected
            .iter()
            .map(|&i| &candidates[i])
            .filter(|c| c.doc_id == doc)
            .collect();
        spans.sort_by_key(|c| c.ord);
        let first = spans[0];
        if !text.is_empty() {
            text.push('\n');
        }
        // The source path is in the citations; the heading names the document.
        text.push_str(&format!("## {}\n", first.title));
        let mut section: Option<&[String]> = None;
        for c in spans {
            let Some(span) = store.span(c.ord) else {
                continue;
            };
            // The breadcrumb, when it changes and says more than the title.
            let path = c.section.as_slice();
            if section != Some(path) {
                let crumbs: Vec<&str> = path
                    .iter()
                    .map(String::as_str)
                    .filter(|h| *h != c.title)
                    .collect();
                if !crumbs.is_empty() {
                    text.push_str(&format!("### {}\n", crumbs.join(" > ")));
                }
                section = Some(path);
            }
            let marker = citations.len() + 1;
            text.push_str(&format!("[{marker}] {}\n", span.text));
            citations.push(Citation {
                marker,
                span_id: c.span_id.clone(),
                source: c.source.clone(),
                byte_range: span.byte_range.clone(),
                line_range: span.line_range,
                heading_path: span.heading_path.clone(),
            });
        }
    }
    (text, citations)
}

/// The tokens a candidate adds to a rendering: its text, marker and line
/// break, plus the document and section headings it opens. Heading costs
/// are counted once per document and section, so a greedy pass over 200
/// candidates does not run the tokenizer 400 times. An estimate (BPE
/// counts are nearly additive across lines); [`fit_budget`] makes it exact.
#[derive(Debug, Default)]
pub struct CostModel {
    open_docs: HashSet<String>,
    open_sections: HashSet<String>,
    heading_tokens: HashMap<String, usize>,
}

impl CostModel {
    /// The cost of adding `c` to what is open now. When even its text
    /// exceeds `room`, that lower bound is returned without counting headings.
    pub fn cost(&mut self, counter: &TokenCounter, c: &Candidate, room: usize) -> usize {
        let mut cost = c.tokens as usize + 4;
        if cost > room {
            return cost;
        }
        if !self.open_docs.contains(&c.doc_id) {
            cost += *self
                .heading_tokens
                .entry(format!("doc:{}", c.doc_id))
                .or_insert_with(|| counter.count(&format!("## {}\n", c.title)));
        }
        let key = c.section_key();
        if !c.section.is_empty() && !self.open_sections.contains(&key) {
            cost += *self
                .heading_tokens
                .entry(key)
                .or_insert_with(|| counter.count(&format!("### {}\n", c.section.join(" > "))));
        }
        cost
    }

    /// Marks `c`'s document and section as open.
    pub fn admit(&mut self, c: &Candidate) {
        self.open_docs.insert(c.doc_id.clone());
        self.open_sections.insert(c.section_key());
    }
}

/// Renders the selection and drops the lowest-scored spans until the text
/// fits the budget; records the rendering in the state.
pub fn fit_budget(ctx: &Context<'_>, state: &mut QueryState, step: &str) {
    let store = ctx.retriever.index().store();
    loop {
        let (text, citations) = render(store, &state.candidates, &state.selected);
        let tokens = ctx.counter.count(&text);
        if tokens <= state.budget || state.selected.is_empty() {
            state.rendered = Some(Rendered {
                text,
                citations,
                tokens,
                budget: state.budget,
            });
            return;
        }
        // Drop the weakest span (ties: the later span id) and try again.
        let (pos, _) = state
            .selected
            .iter()
            .enumerate()
            .min_by(|(_, &a), (_, &b)| {
                let (ca, cb) = (&state.candidates[a], &state.candidates[b]);
                ca.scores
                    .final_score
                    .total_cmp(&cb.scores.final_score)
                    .then(cb.span_id.cmp(&ca.span_id))
            })
            .unwrap_or((state.selected.len() - 1, &0));
        let dropped = state.selected.remove(pos);
        state.candidates[dropped].decide(false, "budget_exceeded", step.to_string());
    }
}
