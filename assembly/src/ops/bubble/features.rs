//! What the selection knows about each candidate, computed once per run:
//! lexical features, stored vectors (never re-embedded), static scores.

use super::BubbleParams;
use crate::state::{Context, QueryState};
use crate::text::{distinct_words, overlap, query_terms, word_hash, Lexical};
use std::cell::OnceCell;

/// Per-candidate features, indexed like `state.candidates`.
pub(super) struct Features<'a> {
    pub lex: Vec<Lexical>,
    texts: Vec<&'a str>,
    /// Distinct words, computed on first use: only the paper's gate and
    /// spans without vectors need them, and sorting every candidate's words
    /// would cost a third of a default-mode selection.
    words: Vec<OnceCell<Vec<u64>>>,
    vectors: Vec<Option<&'a [f32]>>,
    /// Number of query terms (coverage is a share of them).
    pub terms: usize,
    /// Per facet of a compound question, each candidate's cosine to it
    /// relative to the closest candidate's (0..1; 0 without a vector).
    facets: Vec<Vec<f32>>,
}

impl<'a> Features<'a> {
    pub(super) fn new(ctx: &Context<'a>, state: &QueryState) -> Features<'a> {
        let index = ctx.retriever.index();
        let store = index.store();
        let query: Vec<u64> = query_terms(&state.query)
            .iter()
            .map(|t| word_hash(t))
            .collect();
        let texts: Vec<&'a str> = state
            .candidates
            .iter()
            .map(|c| store.span(c.ord).map_or("", |s| s.text.as_str()))
            .collect();
        let vectors: Vec<Option<&'a [f32]>> = state
            .candidates
            .iter()
            .map(|c| index.vectors().and_then(|v| v.vector(c.ord)))
            .collect();
        let facets = state
            .facet_vectors
            .iter()
            .map(|(_, f)| relative_cosines(&vectors, f))
            .collect();
        Features {
            lex: state
                .candidates
                .iter()
                .zip(&texts)
                .map(|(c, text)| {
                    // The title counts for coverage: a multi-hop question often
                    // names the entity a paragraph is about only in its title.
                    let headings = std::iter::once(c.title.as_str())
                        .chain(c.section.iter().map(String::as_str));
                    Lexical::new(text, headings, &query)
                })
                .collect(),
            words: texts.iter().map(|_| OnceCell::new()).collect(),
            texts,
            vectors,
            terms: query.len().min(64),
            facets,
        }
    }

    /// Candidate `i`'s text.
    pub(super) fn text(&self, i: usize) -> &'a str {
        self.texts[i]
    }

    /// Candidate `i`'s distinct words, sorted.
    pub(super) fn words(&self, i: usize) -> &[u64] {
        self.words[i].get_or_init(|| distinct_words(self.texts[i]))
    }

    /// How much of candidate `j` the candidate `i` already says: the cosine
    /// of their stored vectors, or word overlap when the index has none.
    pub(super) fn similarity(&self, i: usize, j: usize) -> f32 {
        match (self.vectors[i], self.vectors[j]) {
            (Some(a), Some(b)) => bubble_index::dot(a, b),
            _ => overlap(self.words(j), self.words(i)),
        }
    }

    /// Number of facets with vectors.
    pub(super) fn facet_count(&self) -> usize {
        self.facets.len()
    }

    /// Candidate `i`'s relative closeness to facet `f`.
    pub(super) fn facet(&self, f: usize, i: usize) -> f32 {
        self.facets[f][i]
    }

    /// How much closer candidate `i` comes to the facets than the closest
    /// selected span (`reached`, per facet), summed over the facets.
    pub(super) fn facet_gain(&self, i: usize, reached: &[f32]) -> f32 {
        self.facets
            .iter()
            .zip(reached)
            .map(|(rel, &r)| (rel[i] - r).max(0.0))
            .fold(0.0, |a, g| a + g) // `sum` of nothing is -0.0
    }

    /// Share of the query terms that candidate `i` would newly cover.
    pub(super) fn coverage_gain(&self, i: usize, covered: u64) -> f32 {
        if self.terms == 0 {
            return 0.0;
        }
        (self.lex[i].terms & !covered).count_ones() as f32 / self.terms as f32
    }
}

/// Each vector's cosine to `facet` divided by the highest, floored at 0.
fn relative_cosines(vectors: &[Option<&[f32]>], facet: &[f32]) -> Vec<f32> {
    let cos: Vec<f32> = vectors
        .iter()
        .map(|v| v.map_or(0.0, |v| bubble_index::dot(v, facet).max(0.0)))
        .collect();
    let best = cos.iter().copied().fold(0.0f32, f32::max);
    if best <= 0.0 {
        return vec![0.0; cos.len()];
    }
    cos.into_iter().map(|c| c / best).collect()
}

/// tf, prior and length penalty: the parts of a score that do not depend on
/// what is already selected.
pub(super) fn score_static(
    p: &BubbleParams,
    ctx: &Context<'_>,
    state: &mut QueryState,
    f: &Features<'_>,
) {
    let store = ctx.retriever.index().store();
    let theta = p.theta.unwrap_or_else(|| median_tokens(state)).max(1.0);
    for (c, lex) in state.candidates.iter_mut().zip(&f.lex) {
        let section_boost: f32 = if p.section_boosts.is_empty() {
            0.0
        } else {
            let heading = c.section.join(" > ").to_lowercase();
            p.section_boosts
                .iter()
                .filter(|(k, _)| heading.contains(&k.to_lowercase()))
                .map(|(_, v)| v)
                .sum()
        };
        let keyword_boost: f32 = if p.keyword_boosts.is_empty() {
            0.0
        } else {
            let lower = store
                .span(c.ord)
                .map_or(String::new(), |s| s.text.to_lowercase());
            p.keyword_boosts
                .iter()
                .filter(|(k, _)| lower.contains(&k.to_lowercase()))
                .map(|(_, v)| v)
                .sum()
        };
        let kind_boost = p.kind_boosts.get(c.kind.as_str()).copied().unwrap_or(0.0);
        c.scores.tf = lex.tf as f32;
        c.scores.prior = section_boost + keyword_boost + kind_boost;
        c.scores.length_penalty = 1.0 / (1.0 + c.tokens as f32 / theta);
    }
}

fn median_tokens(state: &QueryState) -> f32 {
    let mut t: Vec<u32> = state.candidates.iter().map(|c| c.tokens).collect();
    t.sort_unstable();
    t.get(t.len() / 2).copied().unwrap_or(100) as f32
}

/// The best retrieval score among candidates (to normalise relevance to 0..1).
pub(super) fn best_retrieval(state: &QueryState) -> f32 {
    state
        .candidates
        .iter()
        .map(|c| c.scores.retrieval)
        .fold(0.0f32, f32::max)
        .max(f32::MIN_POSITIVE)
}

#[cfg(test)]
mod tests {
    use super::relative_cosines;

    #[test]
    fn facet_closeness_is_relative_to_the_closest_candidate() {
        let (a, b, c) = ([1.0, 0.0], [0.6, 0.8], [-1.0, 0.0]);
        let vectors: Vec<Option<&[f32]>> = vec![Some(&a), Some(&b), Some(&c), None];
        let rel = relative_cosines(&vectors, &[0.8, 0.6]);
        // Cosines 0.8, 0.96, -0.8 (floored at 0), none: divided by 0.96.
        let want = [0.8 / 0.96, 1.0, 0.0, 0.0];
        for (r, w) in rel.iter().zip(want) {
            assert!((r - w).abs() < 1e-6, "{rel:?}");
        }
        // No candidate close at all: no facet gain for anyone.
        assert_eq!(relative_cosines(&vectors, &[0.0, 0.0]), [0.0; 4]);
    }
}
