//! What the selection knows about each candidate, computed once per run:
//! lexical features, stored vectors (never re-embedded), static scores.

use super::BubbleParams;
use crate::state::{Context, QueryState};
use crate::table;
use crate::text::{distinct_words, for_each_word, overlap, query_terms, word_hash, Lexical};
use bubble_index::bubble_ingest::SpanKind;
use bubble_index::Corpus;
use bubble_retrieval::neighbours::table_of;
use std::borrow::Cow;
use std::cell::OnceCell;

/// A table row's values, read against its table's header.
#[derive(Debug, Clone)]
pub(super) struct RowValues {
    /// Distinct words of the values, without the labels.
    pub words: Vec<u64>,
    /// The first value, lowercased: what the row is about.
    pub key: Option<String>,
    /// Its table's ord.
    pub table: u32,
    /// Whether the query names its key ("the Business plan" for the
    /// Business row): then it is the row asked for, not one of many.
    pub named: bool,
}

/// Per-candidate features, indexed like `state.candidates`.
pub(super) struct Features<'a> {
    pub lex: Vec<Lexical>,
    texts: Vec<String>,
    /// Distinct words, computed on first use: only the paper's gate and
    /// spans without vectors need them, and sorting every candidate's words
    /// would cost a third of a default-mode selection.
    words: Vec<OnceCell<Vec<u64>>>,
    vectors: Vec<Option<Cow<'a, [f32]>>>,
    /// Number of query terms (coverage is a share of them).
    pub terms: usize,
    /// Per facet of a compound question, each candidate's cosine to it
    /// relative to the closest candidate's (0..1; 0 without a vector).
    facets: Vec<Vec<f32>>,
    store: &'a dyn Corpus,
    /// The query's distinct words (stopwords included: a key may be one).
    query_words: Vec<u64>,
    ords: Vec<u32>,
    /// A row's values, computed on first use (rows only).
    rows: Vec<OnceCell<Option<RowValues>>>,
    /// The sequence of a text's words, hashed: equal for the same content
    /// whatever its case, punctuation or Markdown.
    fingerprints: Vec<OnceCell<Option<u64>>>,
}

impl<'a> Features<'a> {
    pub(super) fn new(ctx: &Context<'a>, state: &QueryState) -> Features<'a> {
        let store = ctx.retriever.corpus();
        let query: Vec<u64> = query_terms(&state.query)
            .iter()
            .map(|t| word_hash(t))
            .collect();
        let texts: Vec<String> = state
            .candidates
            .iter()
            .map(|c| store.span(c.ord).map(|s| s.text).unwrap_or_default())
            .collect();
        let vectors: Vec<Option<Cow<'a, [f32]>>> = state
            .candidates
            .iter()
            .map(|c| store.vector(c.ord))
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
            rows: texts.iter().map(|_| OnceCell::new()).collect(),
            fingerprints: texts.iter().map(|_| OnceCell::new()).collect(),
            ords: state.candidates.iter().map(|c| c.ord).collect(),
            store,
            query_words: distinct_words(&state.query),
            texts,
            vectors,
            terms: query.len().min(64),
            facets,
        }
    }

    /// Candidate `i`'s values, if it is a row of a table with a header.
    pub(super) fn row(&self, i: usize) -> Option<&RowValues> {
        self.rows[i]
            .get_or_init(|| row_values(self.store, self.ords[i], &self.query_words))
            .as_ref()
    }

    /// Candidate `i`'s content fingerprint; `None` for texts too short to
    /// call a repeat a duplicate (a "Yes", a lone number).
    pub(super) fn fingerprint(&self, i: usize) -> Option<u64> {
        *self.fingerprints[i].get_or_init(|| fingerprint(&self.texts[i]))
    }

    /// The cosine of two candidates' stored vectors, if both have one.
    pub(super) fn cosine(&self, i: usize, j: usize) -> Option<f32> {
        Some(bubble_index::dot(
            self.vectors[i].as_deref()?,
            self.vectors[j].as_deref()?,
        ))
    }

    /// Number of candidates the features cover: those in the pool when the
    /// pass began (spans it brings in later, headers and whole tables, are
    /// read from the store through [`Features::span`]).
    pub(super) fn len(&self) -> usize {
        self.ords.len()
    }

    /// The features of any span by ord, uncached: for spans added during
    /// the pass.
    pub(super) fn span(&self, ord: u32) -> SpanFeatures<'a> {
        SpanFeatures {
            row: row_values(self.store, ord, &self.query_words),
            fingerprint: self.store.span(ord).and_then(|s| fingerprint(&s.text)),
            vector: self.store.vector(ord),
        }
    }

    /// The features of candidate `i`, as [`Features::span`] gives them.
    pub(super) fn of(&self, i: usize) -> SpanFeatures<'a> {
        SpanFeatures {
            row: self.row(i).cloned(),
            fingerprint: self.fingerprint(i),
            vector: self.vectors[i].clone(),
        }
    }

    /// Candidate `i`'s text.
    pub(super) fn text(&self, i: usize) -> &str {
        &self.texts[i]
    }

    /// Candidate `i`'s distinct words, sorted.
    pub(super) fn words(&self, i: usize) -> &[u64] {
        self.words[i].get_or_init(|| distinct_words(&self.texts[i]))
    }

    /// How much of candidate `j` the candidate `i` already says: for two
    /// rows, the share of `j`'s values that `i` has (rows of one table
    /// share their labels, and their vectors sit at cosine 0.94 whatever
    /// their values); otherwise the cosine of their stored vectors, or
    /// word overlap when the index has none.
    pub(super) fn similarity(&self, i: usize, j: usize) -> f32 {
        if let (Some(a), Some(b)) = (self.row(i), self.row(j)) {
            return overlap(&b.words, &a.words);
        }
        match self.cosine(i, j) {
            Some(c) => c,
            None => overlap(self.words(j), self.words(i)),
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

/// What duplicate detection compares, for one span.
pub(super) struct SpanFeatures<'a> {
    pub row: Option<RowValues>,
    pub fingerprint: Option<u64>,
    pub vector: Option<Cow<'a, [f32]>>,
}

/// A row's values, if `ord` is a row of a table with a header.
fn row_values(store: &dyn Corpus, ord: u32, query_words: &[u64]) -> Option<RowValues> {
    let span = store.span(ord)?;
    if span.kind != SpanKind::Row {
        return None;
    }
    let t = table_of(store, ord)?;
    let header = store.span(t.header?)?;
    let labels = table::labels(&header.text);
    let key = table::key(&labels, &span.text);
    let key_words = key.as_deref().map(distinct_words).unwrap_or_default();
    Some(RowValues {
        words: table::value_words(&labels, &span.text),
        named: !key_words.is_empty() && overlap(&key_words, query_words) == 1.0,
        key,
        table: t.table,
    })
}

/// The hashed sequence of a text's words; `None` under five words.
fn fingerprint(text: &str) -> Option<u64> {
    let (mut h, mut n) = (0xcbf2_9ce4_8422_2325u64, 0);
    for_each_word(text, |w| {
        h = (h ^ w).wrapping_mul(0x0100_0000_01b3);
        n += 1;
    });
    (n >= 5).then_some(h)
}

/// Each vector's cosine to `facet` divided by the highest, floored at 0.
fn relative_cosines(vectors: &[Option<Cow<'_, [f32]>>], facet: &[f32]) -> Vec<f32> {
    let cos: Vec<f32> = vectors
        .iter()
        .map(|v| {
            v.as_deref()
                .map_or(0.0, |v| bubble_index::dot(v, facet).max(0.0))
        })
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
    let store = ctx.retriever.corpus();
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
    use std::borrow::Cow;

    #[test]
    fn facet_closeness_is_relative_to_the_closest_candidate() {
        let (a, b, c) = ([1.0, 0.0], [0.6, 0.8], [-1.0, 0.0]);
        let vectors: Vec<Option<Cow<'_, [f32]>>> = vec![
            Some(Cow::Borrowed(&a[..])),
            Some(Cow::Borrowed(&b[..])),
            Some(Cow::Borrowed(&c[..])),
            None,
        ];
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
