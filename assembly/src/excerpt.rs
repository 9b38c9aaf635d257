//! Excerpts: which units (sentences, clauses) of a span a compressed bubble
//! shows, and which units elsewhere were folded into them as near
//! duplicates. A span without an excerpt is shown whole.

use bubble_index::bubble_ingest::SpanKind;
use bubble_index::SpanStore;
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

/// The text a span shows: its own, or its kept units in source order with
/// an elision mark wherever units were left out (list items one a line).
pub fn shown_text<'a>(store: &'a SpanStore, ord: u32, excerpts: &Excerpts) -> Cow<'a, str> {
    let whole = store.span(ord).map_or("", |s| s.text.as_str());
    let Some(ex) = excerpts.get(&ord) else {
        return Cow::Borrowed(whole);
    };
    let units = store.units_of(ord);
    if ex.kept == units {
        return Cow::Borrowed(whole);
    }
    let sep = match store.span(ord).map(|s| s.kind) {
        Some(SpanKind::List) => "\n",
        _ => " ",
    };
    let mut pieces: Vec<&str> = Vec::with_capacity(2 * ex.kept.len() + 1);
    let mut previous: Option<usize> = None;
    for &k in &ex.kept {
        let Some(at) = units.iter().position(|&u| u == k) else {
            continue;
        };
        let gap = previous.map_or(at > 0, |p| at > p + 1);
        if gap {
            pieces.push(ELISION);
        }
        pieces.push(store.span(k).map_or("", |s| s.text.as_str()));
        previous = Some(at);
    }
    if previous.is_some_and(|p| p + 1 < units.len()) {
        pieces.push(ELISION);
    }
    Cow::Owned(pieces.join(sep))
}
