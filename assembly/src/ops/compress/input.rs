//! The units a `compress` works on: every unit of the input spans, in
//! source order, with its stored vector and its group.

use super::GroupLevel;
use crate::candidate::Candidate;
use bubble_compress::UnitSet;
use bubble_index::Corpus;

/// The input of one compression, and the way back from unit positions to
/// spans.
pub(super) struct Input {
    pub units: UnitSet,
    /// Per unit: its ord, and the candidate (index into the state) it belongs to.
    pub unit_ords: Vec<u32>,
    pub owner: Vec<usize>,
    /// Per group: its label for the trace.
    pub group_labels: Vec<String>,
    /// Candidates with no unit vector at all (a table header, a section):
    /// compression cannot judge them, so they stay as they are.
    pub whole: Vec<usize>,
}

/// Collects the units of candidates `spans`. A unit without a stored vector
/// (none, in an index built with unit vectors) takes its block's vector;
/// `None` when the index has no unit vectors at all.
pub(super) fn collect(
    index: &dyn Corpus,
    candidates: &[Candidate],
    spans: &[usize],
    level: GroupLevel,
) -> Option<Input> {
    if !index.has_unit_vectors() {
        return None;
    }
    // Unit vectors come from the model the blocks' do: its dimension.
    let dim = index.manifest().embedding.as_ref()?.dim;
    let mut order: Vec<usize> = spans.to_vec();
    // Source order: document, then position in it.
    order.sort_by_key(|&i| candidates[i].ord);
    order.dedup();
    let mut input = Input {
        units: UnitSet::new(dim),
        unit_ords: Vec::new(),
        owner: Vec::new(),
        group_labels: Vec::new(),
        whole: Vec::new(),
    };
    let mut group_of_label: std::collections::HashMap<String, u32> = Default::default();
    let mut v: Vec<f32> = Vec::with_capacity(dim);
    for i in order {
        let c = &candidates[i];
        let label = match level {
            GroupLevel::Span => c.span_id.clone(),
            GroupLevel::Section => c.section_key(),
        };
        let next = group_of_label.len() as u32;
        let group = *group_of_label.get(&label).unwrap_or(&next);
        let before = input.unit_ords.len();
        for u in index.units_of(c.ord) {
            v.clear();
            let found = index.unit_vector(u, &mut v)
                || index.vector(c.ord).is_some_and(|b| {
                    v.extend_from_slice(&b);
                    true
                });
            if !found || v.len() != dim {
                continue;
            }
            let tokens = index.span(u).map_or(0, |s| s.tokens);
            if input.units.push(&v, tokens, group, c.ord).is_ok() {
                input.unit_ords.push(u);
                input.owner.push(i);
            }
        }
        if input.unit_ords.len() == before {
            input.whole.push(i);
        } else if group == next {
            group_of_label.insert(label.clone(), group);
            input.group_labels.push(label);
        }
    }
    Some(input)
}

/// Sets each unit's prior to `weight` × the share of the query's content
/// words its text contains.
pub(super) fn lexical_priors(index: &dyn Corpus, input: &mut Input, query: &str, weight: f32) {
    let terms: Vec<u64> = crate::text::query_terms(query)
        .iter()
        .map(|t| crate::text::word_hash(t))
        .collect();
    if terms.is_empty() {
        return;
    }
    for (u, &ord) in input.unit_ords.iter().enumerate() {
        let span = index.span(ord);
        let text = span.as_ref().map_or("", |s| s.text.as_str());
        let mut found: Vec<u64> = Vec::new();
        crate::text::for_each_word(text, |h| {
            if terms.contains(&h) && !found.contains(&h) {
                found.push(h);
            }
        });
        input
            .units
            .set_prior(u, weight * found.len() as f32 / terms.len() as f32);
    }
}
