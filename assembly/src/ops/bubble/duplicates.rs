//! Duplicates: the same content in two files or formats (a CSV and the
//! HTML page that shows it, a paragraph copied into a FAQ) enters the
//! bubble once and cites every source. Unlike a redundant span, which is
//! dropped because the bubble says most of it already, a duplicate says
//! nothing else, so folding it loses no fact and keeps its citation.

use super::features::{Features, SpanFeatures};
use crate::state::QueryState;
use crate::text::overlap;

/// Share of the shorter row's values the other row must have, with the
/// same key, to be the same row shown twice (an HTML cell "10% of the
/// monthly fee, 25% below 99.0%" holds the CSV's "10%" and "25%").
const ROW_VALUES_CONTAINED: f32 = 0.8;

/// The selected candidate that candidate `i` duplicates, if any: the same
/// words in the same order; two rows about the same key whose values one
/// contains the other's; or other spans whose stored vectors sit at
/// `min_cosine` or closer.
pub(super) fn duplicate_of(
    f: &Features<'_>,
    state: &QueryState,
    i: usize,
    min_cosine: f32,
) -> Option<usize> {
    let candidate = f.of(i);
    state.selected.iter().copied().find(|&k| {
        let kept = if k < f.len() {
            f.of(k)
        } else {
            f.span(state.candidates[k].ord)
        };
        is_duplicate(&kept, &candidate, min_cosine)
    })
}

fn is_duplicate(a: &SpanFeatures<'_>, b: &SpanFeatures<'_>, min_cosine: f32) -> bool {
    if b.fingerprint.is_some() && a.fingerprint == b.fingerprint {
        return true;
    }
    match (&a.row, &b.row) {
        (Some(a), Some(b)) => {
            let (short, long) = if a.words.len() <= b.words.len() {
                (a, b)
            } else {
                (b, a)
            };
            a.key.is_some()
                && a.key == b.key
                && short.words.len() >= 2
                && overlap(&short.words, &long.words) >= ROW_VALUES_CONTAINED
        }
        (None, None) => match (a.vector.as_deref(), b.vector.as_deref()) {
            (Some(x), Some(y)) => bubble_index::dot(x, y) >= min_cosine,
            _ => false,
        },
        _ => false,
    }
}
