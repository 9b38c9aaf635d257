//! Excerpts: which units (sentences, clauses) of a span a compressed bubble
//! shows, and which units elsewhere were folded into them as near
//! duplicates. A span without an excerpt is shown whole.

use bubble_index::bubble_ingest::SpanKind;
use bubble_index::Corpus;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Marks text left out between, before or after kept units.
pub const ELISION: &str = "…";

/// The units of one span a bubble shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excerpt {
    /// Ords of the kept units, in source order.
    pub kept: Vec<u32>,
    /// `(kept unit, folded unit)`: units of any span folded into a kept
    /// unit of this one as near duplicates; their citations travel with it.
    pub merged: Vec<(u32, u32)>,
}

/// Excerpts by span ord.
pub type Excerpts = BTreeMap<u32, Excerpt>;

/// The text a span shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpanText {
    /// All of it.
    Whole(String),
    /// Some of its units, with elision marks.
    Part(String),
}

impl SpanText {
    /// The text, either way.
    pub fn text(&self) -> &str {
        match self {
            SpanText::Whole(t) | SpanText::Part(t) => t,
        }
    }

    /// The text, owned.
    pub fn into_text(self) -> String {
        match self {
            SpanText::Whole(t) | SpanText::Part(t) => t,
        }
    }
}

/// The text a span shows: its own, or its kept units in source order with
/// an elision mark wherever units were left out (list items one a line).
pub fn shown_text(store: &dyn Corpus, ord: u32, excerpts: &Excerpts) -> SpanText {
    let Some(span) = store.span(ord) else {
        return SpanText::Whole(String::new());
    };
    let Some(ex) = excerpts.get(&ord) else {
        return SpanText::Whole(span.text);
    };
    let units = store.units_of(ord);
    if ex.kept == units {
        return SpanText::Whole(span.text);
    }
    let sep = match span.kind {
        SpanKind::List => "\n",
        _ => " ",
    };
    let mut pieces: Vec<Cow<'_, str>> = Vec::with_capacity(2 * ex.kept.len() + 1);
    let mut previous: Option<usize> = None;
    for &k in &ex.kept {
        let Some(at) = units.iter().position(|&u| u == k) else {
            continue;
        };
        let gap = previous.map_or(at > 0, |p| at > p + 1);
        if gap {
            pieces.push(Cow::Borrowed(ELISION));
        }
        pieces.push(Cow::Owned(
            store.span(k).map(|s| s.text).unwrap_or_default(),
        ));
        previous = Some(at);
    }
    if previous.is_some_and(|p| p + 1 < units.len()) {
        pieces.push(Cow::Borrowed(ELISION));
    }
    SpanText::Part(pieces.join(sep))
}
