//! `rank`: the bubble ordered by the RankGen-style score.

use crate::operator::Operator;
use crate::state::{Context, QueryState};
use crate::AssemblyError;

/// RankGen's role with the encoder we have: the query embedded as a prefix,
/// each selected span (its stored vector, never re-embedded) scored as a
/// continuation by dot product, and the bubble ordered by that score. The
/// order decides which document comes first in the rendering. Without
/// vectors the retrieval order stands, and the trace says so.
#[derive(Debug, Clone, Default)]
pub struct Rank;

impl Operator for Rank {
    fn name(&self) -> &str {
        "rank"
    }

    fn run(&self, ctx: &Context<'_>, state: &mut QueryState) -> Result<String, AssemblyError> {
        let (Some(embedder), Some(vectors)) =
            (ctx.retriever.embedder(), ctx.retriever.index().vectors())
        else {
            return Ok("no embedding model: retrieval order kept".into());
        };
        if ctx.retriever.dense_unavailable().is_some() {
            return Ok("index and model disagree: retrieval order kept".into());
        }
        // Reuse the vector retrieval computed; embed only if none ran.
        let q = match state.query_vector.take() {
            Some(q) => q,
            None => embedder
                .embed_query(&state.query)
                .map_err(|e| AssemblyError::Request(e.to_string()))?,
        };
        for &i in &state.selected {
            let c = &mut state.candidates[i];
            c.scores.rank = vectors.vector(c.ord).map(|v| bubble_index::dot(&q, v));
        }
        state.query_vector = Some(q);
        let cands = &state.candidates;
        state.selected.sort_by(|&a, &b| {
            let (ra, rb) = (
                cands[a].scores.rank.unwrap_or(f32::MIN),
                cands[b].scores.rank.unwrap_or(f32::MIN),
            );
            rb.total_cmp(&ra)
                .then(cands[a].span_id.cmp(&cands[b].span_id))
        });
        Ok(format!(
            "{} spans ranked as continuations of the query",
            state.selected.len()
        ))
    }
}
