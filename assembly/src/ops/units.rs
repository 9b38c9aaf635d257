//! `units`: splits long paragraphs and lists among the candidates into
//! their sentences, so a budget can hold the one sentence that matters from
//! each of several documents instead of one whole paragraph.

use crate::candidate::Candidate;
use crate::operator::Operator;
use crate::ops::retrieve::hit_for;
use crate::state::{Context, QueryState};
use crate::text::{for_each_word, query_terms, word_hash};
use crate::AssemblyError;
use bubble_index::bubble_ingest::SpanKind;
use serde::{Deserialize, Serialize};

/// Parameters of `units`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnitsParams {
    /// Blocks shorter than this stay whole.
    pub min_tokens: u32,
    /// Share of the block's retrieval score a sentence keeps even when it
    /// mentions no query term (the rest is earned by mentioning them).
    pub base: f32,
    /// Extra share of the block's score for its first sentence, which
    /// usually names its subject.
    pub lead_bonus: f32,
}

impl Default for UnitsParams {
    fn default() -> Self {
        UnitsParams {
            min_tokens: 40,
            base: 0.6,
            lead_bonus: 0.1,
        }
    }
}

/// The `units` operator.
#[derive(Debug, Clone)]
pub struct Units {
    params: UnitsParams,
}

impl Units {
    /// Validates the parameters.
    pub fn new(params: UnitsParams) -> Result<Units, String> {
        if !(0.0..=1.0).contains(&params.base) {
            return Err("base must be in 0..=1".into());
        }
        Ok(Units { params })
    }
}

impl Operator for Units {
    fn name(&self) -> &str {
        "units"
    }

    fn run(&self, ctx: &Context<'_>, state: &mut QueryState) -> Result<String, AssemblyError> {
        let store = ctx.retriever.corpus();
        let query: Vec<u64> = query_terms(&state.query)
            .iter()
            .map(|t| word_hash(t))
            .collect();
        let mut kept: Vec<Candidate> = Vec::new();
        let (mut split, mut sentences) = (0, 0);
        for c in std::mem::take(&mut state.candidates) {
            let splittable = matches!(c.kind, SpanKind::Paragraph | SpanKind::List)
                && c.tokens >= self.params.min_tokens;
            // A block's units are its sentences (or the block itself).
            let children = if splittable {
                store.units_of(c.ord)
            } else {
                Vec::new()
            };
            let children = if children == [c.ord] {
                Vec::new()
            } else {
                children
            };
            if children.is_empty() {
                kept.push(c);
                continue;
            }
            split += 1;
            for (n, ord) in children.into_iter().enumerate() {
                let Some(hit) = hit_for(ctx, ord, 0.0) else {
                    continue;
                };
                let mut hits = 0u32;
                for_each_word(&hit.text, |h| hits += u32::from(query.contains(&h)));
                let mut s = Candidate::from_hit(&hit);
                s.scores.bm25 = c.scores.bm25;
                s.scores.dense = c.scores.dense;
                let earned = (hits as f32 / 2.0).min(1.0);
                s.scores.retrieval =
                    c.scores.retrieval * (self.params.base + (1.0 - self.params.base) * earned);
                if n == 0 {
                    s.scores.prior += self.params.lead_bonus;
                }
                kept.push(s);
                sentences += 1;
            }
        }
        state.set_candidates(kept);
        Ok(format!("{split} blocks split into {sentences} sentences"))
    }
}
