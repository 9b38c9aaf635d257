//! Rendering a bubble: Markdown grouped by document and section in reading
//! order, citation markers, and the citations themselves — for a span shown
//! in part (compressed), one per unit shown, exact to the byte. Rows of one
//! table whose header is in the bubble render as one compact Markdown table
//! (the header once, each row's marker in a last column). A span that
//! folded duplicates cites their sources too. It takes
//! plain inputs, not the query state: `budget::fit_budget` counts what this
//! renders in the caller's tokenizer and enforces the budget.

use crate::candidate::Candidate;
use crate::excerpt::{shown_text, Excerpts, SpanText};
use crate::table;
use bubble_index::bubble_ingest::SpanKind;
use bubble_index::Corpus;
use bubble_retrieval::neighbours::table_of;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

/// Spans folded into a selected one as duplicates: kept ord → folded ords.
pub type Duplicates = BTreeMap<u32, Vec<u32>>;

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
    /// Spans elsewhere (another file or format) with the same content,
    /// folded into this one: it is shown once and cites them all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_in: Vec<UnitCitation>,
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
    fn of(store: &dyn Corpus, ord: u32, into: Option<u32>) -> Option<UnitCitation> {
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

/// What a bubble shows: the selected candidates (indices into
/// `candidates`), the excerpts of compressed spans and the duplicates
/// folded into selected spans.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    /// The candidate pool.
    pub candidates: &'a [Candidate],
    /// Indices into `candidates` of the bubble.
    pub selected: &'a [usize],
    /// The units shown of each compressed span.
    pub excerpts: &'a Excerpts,
    /// Duplicates folded into selected spans.
    pub duplicates: &'a Duplicates,
}

/// Renders the bubble, each span whole or as its excerpt.
pub fn render(store: &dyn Corpus, shown: Shown<'_>) -> (String, Vec<Citation>) {
    let Shown {
        candidates,
        selected,
        excerpts,
        duplicates,
    } = shown;
    let selected_ords: HashSet<u32> = selected.iter().map(|&i| candidates[i].ord).collect();
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
        text.push_str(&doc_heading(&first.title));
        let mut section: Option<&[String]> = None;
        // The table whose compact lines are being written: a table ends
        // with a blank line, or the next line would read as a row.
        let mut in_table: Option<u32> = None;
        for c in spans {
            let Some(span) = store.span(c.ord) else {
                continue;
            };
            let marker = citations.len() + 1;
            let line = table_line(store, c, &selected_ords, marker);
            let table = line.as_ref().map(|(t, _)| *t);
            if in_table.is_some() && in_table != table {
                text.push('\n');
            }
            in_table = table;
            let path = c.section.as_slice();
            if section != Some(path) {
                text.push_str(&section_heading(path, &c.title).unwrap_or_default());
                section = Some(path);
            }
            let shown = shown_text(store, c.ord, excerpts);
            match line {
                Some((_, l)) => text.push_str(&l),
                None => text.push_str(&span_line(marker, shown.text())),
            }
            // A span shown in part cites each unit it shows; one shown
            // whole is cited by its own range.
            let excerpt = excerpts.get(&c.ord);
            let units = match (&shown, excerpt) {
                (SpanText::Part(_), Some(ex)) => ex
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
            let also_in = duplicates.get(&c.ord).map_or_else(Vec::new, |dups| {
                dups.iter()
                    .filter_map(|&d| UnitCitation::of(store, d, None))
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
                also_in,
            });
        }
    }
    (text, citations)
}

/// A document's heading, after a blank line unless it opens the bubble
/// (the source path is in the citations; the heading names the document).
pub(crate) fn doc_heading(title: &str) -> String {
    format!("## {title}\n")
}

/// A section's breadcrumb, when it says more than the document's title.
pub(crate) fn section_heading(path: &[String], title: &str) -> Option<String> {
    let crumbs: Vec<&str> = path
        .iter()
        .map(String::as_str)
        .filter(|h| *h != title)
        .collect();
    (!crumbs.is_empty()).then(|| format!("### {}\n", crumbs.join(" > ")))
}

/// A span's line when shown as itself.
pub(crate) fn span_line(marker: usize, shown: &str) -> String {
    format!("[{marker}] {shown}\n")
}

/// A header row or row as a line of its compact table, when the table's
/// header is in the bubble; with the table's ord.
fn table_line(
    store: &dyn Corpus,
    c: &Candidate,
    selected: &HashSet<u32>,
    marker: usize,
) -> Option<(u32, String)> {
    if !matches!(c.kind, SpanKind::Row | SpanKind::TableHeader) {
        return None;
    }
    let t = table_of(store, c.ord)?;
    let header = t.header.filter(|h| selected.contains(h))?;
    let header = store.span(header)?;
    let labels = table::labels(&header.text);
    let line = if c.kind == SpanKind::TableHeader {
        table::header_lines(&labels, marker)
    } else {
        table::row_line(&table::cells(&labels, &store.span(c.ord)?.text)?, marker)
    };
    Some((t.table, line))
}
