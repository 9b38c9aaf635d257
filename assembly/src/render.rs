//! Rendering a bubble: Markdown grouped by document and section in reading
//! order, citation markers, and the citations themselves — for a span shown
//! in part (compressed), one per unit shown, exact to the byte. It takes
//! plain inputs, not the query state: `budget::fit_budget` counts what this
//! renders in the caller's tokenizer and enforces the budget.

use crate::candidate::Candidate;
use crate::excerpt::{shown_text, Excerpts};
use bubble_index::SpanStore;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
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
    /// For a compressed span: each unit shown, with its exact range (empty
    /// when the span is shown whole).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<UnitCitation>,
    /// Units elsewhere that say what a shown unit says, folded into it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<UnitCitation>,
}

/// Where one unit (sentence or clause) comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitCitation {
    /// The unit's span id.
    pub span_id: String,
    /// Source path.
    pub source: String,
    /// Byte range in the source.
    pub byte_range: Range<usize>,
    /// 1-based line range.
    pub line_range: (u32, u32),
    /// For a folded unit: the shown unit it repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub into: Option<String>,
}

impl UnitCitation {
    fn of(store: &SpanStore, ord: u32, into: Option<u32>) -> Option<UnitCitation> {
        let span = store.span(ord)?;
        Some(UnitCitation {
            span_id: span.id.0.clone(),
            source: store.doc_of(ord)?.source.clone(),
            byte_range: span.byte_range.clone(),
            line_range: span.line_range,
            into: into.and_then(|o| store.span(o)).map(|s| s.id.0.clone()),
        })
    }
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

/// Renders the selected candidates (indices into `candidates`), each whole
/// or as its excerpt.
pub fn render(
    store: &SpanStore,
    candidates: &[Candidate],
    selected: &[usize],
    excerpts: &Excerpts,
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
            let shown = shown_text(store, c.ord, excerpts);
            text.push_str(&format!("[{marker}] {shown}\n"));
            // A span shown in part cites each unit it shows; one shown
            // whole is cited by its own range.
            let excerpt = excerpts.get(&c.ord);
            let units = match (&shown, excerpt) {
                (Cow::Owned(_), Some(ex)) => ex
                    .kept
                    .iter()
                    .filter_map(|&u| UnitCitation::of(store, u, None))
                    .collect(),
                _ => Vec::new(),
            };
            let merged = excerpt.map_or_else(Vec::new, |ex| {
                ex.merged
                    .iter()
                    .filter_map(|&(k, m)| UnitCitation::of(store, m, Some(k)))
                    .collect()
            });
            citations.push(Citation {
                marker,
                span_id: c.span_id.clone(),
                source: c.source.clone(),
                byte_range: span.byte_range.clone(),
                line_range: span.line_range,
                heading_path: span.heading_path.clone(),
                units,
                merged,
            });
        }
    }
    (text, citations)
}
