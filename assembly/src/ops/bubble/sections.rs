//! Sections as a whole: when a selected block's section is small enough
//! and its relevance is spread over it (another of its blocks is a strong
//! candidate too), the bubble takes the section's other blocks, so an
//! answer spread over several paragraphs comes in whole.

use super::gates::Gates;
use super::whole;
use crate::cost::CostModel;
use crate::state::{Context, QueryState};
use bubble_index::bubble_ingest::SpanKind;

/// Sections with more blocks are never taken whole.
const MAX_BLOCKS: usize = 24;

/// The blocks (paragraphs, lists, code) directly under the block's
/// section, or none when there are more than [`MAX_BLOCKS`]. A section's
/// own blocks follow it in the store and come before its first subsection,
/// so the scan reads the section's own content only, never its document.
fn section_blocks(ctx: &Context<'_>, ord: u32) -> Vec<u32> {
    let store = ctx.retriever.corpus();
    let Some(parent) = store.span(ord).and_then(|s| s.parent) else {
        return Vec::new();
    };
    let Some(section) = store.ord_of(&parent.0) else {
        return Vec::new();
    };
    let Some(doc) = store
        .span(section)
        .filter(|s| s.kind == SpanKind::Section)
        .map(|s| s.doc_id)
    else {
        return Vec::new();
    };
    let mut blocks = Vec::new();
    let mut o = section + 1;
    while let Some(s) = store.span(o) {
        if s.kind == SpanKind::Section || s.doc_id != doc {
            break;
        }
        if s.parent.as_ref() == Some(&parent)
            && matches!(
                s.kind,
                SpanKind::Paragraph | SpanKind::List | SpanKind::Code
            )
        {
            if blocks.len() == MAX_BLOCKS {
                return Vec::new();
            }
            blocks.push(o);
        }
        o += 1;
    }
    blocks
}

/// Takes the rest of block `i`'s section when all of it costs at most
/// `share` of the budget and fits what is left, and another of its blocks
/// is a candidate at `spread` of the best relevance or more. Returns the
/// candidate indices admitted.
pub(super) fn take_whole(
    ctx: &Context<'_>,
    state: &mut QueryState,
    gates: &mut Gates,
    costs: &mut CostModel<'_>,
    i: usize,
    share: f32,
    spread: f32,
) -> Vec<usize> {
    if share <= 0.0 {
        return Vec::new();
    }
    let blocks = section_blocks(ctx, state.candidates[i].ord);
    if blocks.len() < 2 {
        return Vec::new();
    }
    let best = state
        .candidates
        .iter()
        .map(|c| c.scores.retrieval)
        .fold(0.0f32, f32::max);
    let spread_over = blocks.iter().any(|&o| {
        o != state.candidates[i].ord
            && state
                .index_of(o)
                .is_some_and(|k| state.candidates[k].scores.retrieval >= spread * best)
    });
    if !spread_over {
        return Vec::new();
    }
    let Some((missing, cost)) = whole::price(ctx, state, gates, costs, blocks.into_iter()) else {
        return Vec::new();
    };
    let limit = (share * state.budget as f32) as usize;
    if missing.is_empty() || cost > gates.room() || cost > limit {
        return Vec::new();
    }
    whole::admit_all(ctx, state, gates, costs, missing, i, "whole_section")
}
