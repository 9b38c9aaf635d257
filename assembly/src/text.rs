//! Lexical features shared by the bubble operators: query terms, term
//! counts and word overlap. Words are lowercased alphanumeric runs, hashed
//! to `u64` on the fly: a selection over 200 candidates touches every word
//! of every candidate, and allocating a `String` per word would cost more
//! than the selection itself.

use std::collections::HashSet;

const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "has",
    "have", "how", "i", "if", "in", "is", "it", "its", "my", "of", "on", "or", "our", "should",
    "that", "the", "their", "there", "this", "to", "was", "we", "what", "when", "where", "which",
    "who", "why", "will", "with", "you", "your",
];

/// Lowercased alphanumeric words (allocating; for queries, not candidates).
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// The distinct content words of a query, in order.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words(query) {
        if !STOPWORDS.contains(&w.as_str()) && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// ASCII bytes: the lowercased byte for a letter or digit, 0 otherwise.
const ASCII_WORD: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        if (b as u8).is_ascii_alphanumeric() {
            table[b] = (b as u8).to_ascii_lowercase();
        }
        b += 1;
    }
    table
};

/// The facets of a compound question: its clauses split at `?`, `;` and a
/// whole-word "and", keeping those with at least two content words. Empty
/// when there are fewer than two: a question with one facet is searched
/// whole. "How much does Business cost and what credit applies below 99%?"
/// has two; so has a comparison of two named things, one per thing.
pub fn facets(query: &str) -> Vec<String> {
    let mut out = Vec::new();
    for clause in query.split(['?', ';']) {
        let mut part = String::new();
        for word in clause.split_whitespace() {
            if word.eq_ignore_ascii_case("and") {
                out.push(std::mem::take(&mut part));
            } else {
                if !part.is_empty() {
                    part.push(' ');
                }
                part.push_str(word);
            }
        }
        out.push(part);
    }
    let out: Vec<String> = out
        .into_iter()
        .map(|p| {
            p.trim_matches(|c: char| c == ',' || c.is_whitespace())
                .to_string()
        })
        .filter(|p| query_terms(p).len() >= 2)
        .collect();
    if out.len() < 2 {
        return Vec::new();
    }
    out
}

/// Calls `f` with the hash (FNV-1a) of every lowercased alphanumeric word
/// of `text`. ASCII bytes take a table lookup (most text is ASCII, and this
/// runs over every word of every candidate); other characters are decoded
/// and lowercased fully, so the hash of a word never depends on the path.
pub fn for_each_word(text: &str, mut f: impl FnMut(u64)) {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let bytes = text.as_bytes();
    let mut h = OFFSET;
    let mut in_word = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let alnum = if b < 128 {
            i += 1;
            let lower = ASCII_WORD[usize::from(b)];
            if lower != 0 {
                h = (h ^ u64::from(lower)).wrapping_mul(PRIME);
            }
            lower != 0
        } else {
            // `text` is a str: a non-ASCII byte starts a whole char.
            let c = text[i..]
                .chars()
                .next()
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            i += c.len_utf8();
            if c.is_alphanumeric() {
                for l in c.to_lowercase() {
                    let mut buf = [0u8; 4];
                    for b in l.encode_utf8(&mut buf).bytes() {
                        h = (h ^ u64::from(b)).wrapping_mul(PRIME);
                    }
                }
                true
            } else {
                false
            }
        };
        if alnum {
            in_word = true;
        } else if in_word {
            f(h);
            h = OFFSET;
            in_word = false;
        }
    }
    if in_word {
        f(h);
    }
}

/// The hash `for_each_word` gives a single word.
pub fn word_hash(word: &str) -> u64 {
    let mut out = 0;
    for_each_word(word, |h| out = h);
    out
}

/// What the selection needs to know about one candidate's query terms.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lexical {
    /// Occurrences of query terms in the text (the paper's tf).
    pub tf: u32,
    /// Which query terms (by position, the first 64) the text or its headings mention.
    pub terms: u64,
}

impl Lexical {
    /// Features of `text`; `headings` count for coverage, not for tf.
    pub fn new<'h>(
        text: &str,
        headings: impl IntoIterator<Item = &'h str>,
        query: &[u64],
    ) -> Lexical {
        // Most words are not query terms: one bit test rules them out
        // before the search through the query.
        let filter = query.iter().fold(0u64, |m, &q| m | 1u64 << (q % 64));
        let term = |h: u64| {
            (filter & 1u64 << (h % 64) != 0)
                .then(|| query.iter().position(|&q| q == h))
                .flatten()
        };
        let mut lex = Lexical::default();
        for_each_word(text, |h| {
            if let Some(i) = term(h) {
                lex.tf += 1;
                lex.terms |= 1u64 << i.min(63);
            }
        });
        for heading in headings {
            for_each_word(heading, |h| {
                if let Some(i) = term(h) {
                    lex.terms |= 1u64 << i.min(63);
                }
            });
        }
        lex
    }
}

/// The distinct word hashes of `text`, sorted.
pub fn distinct_words(text: &str) -> Vec<u64> {
    let mut words = Vec::new();
    for_each_word(text, |h| words.push(h));
    words.sort_unstable();
    words.dedup();
    words
}

/// |words ∩ bubble| / |words|: the paper's redundancy (`words` distinct).
pub fn overlap_with(words: &[u64], bubble: &HashSet<u64>) -> f32 {
    if words.is_empty() {
        return 0.0;
    }
    words.iter().filter(|w| bubble.contains(w)).count() as f32 / words.len() as f32
}

/// |a ∩ b| / |a| for sorted distinct word lists, by merging.
pub fn overlap(a: &[u64], b: &[u64]) -> f32 {
    if a.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared as f32 / a.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_words_match_case_insensitively() {
        let q: Vec<u64> = query_terms("What is the Price of PRO?")
            .iter()
            .map(|t| word_hash(t))
            .collect();
        assert_eq!(q.len(), 2);
        let lex = Lexical::new("pro plan: price 49, price again", ["Pricing"], &q);
        assert_eq!(lex.tf, 3);
        assert_eq!(lex.terms, 0b11);
        let a = distinct_words("the price");
        let b = distinct_words("pro plan: price 49, price again");
        assert!((overlap(&a, &b) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn compound_questions_split_into_facets() {
        assert_eq!(
            facets("How much does the Business plan cost and what SLA credit applies below 99.0% uptime?"),
            ["How much does the Business plan cost", "what SLA credit applies below 99.0% uptime"]
        );
        assert_eq!(
            facets("pricing of Team; retention, and support hours"),
            ["pricing of Team", "support hours"]
        );
        assert!(facets("Were Ed Wood and Scott Derrickson of the same nationality?").len() == 2);
        assert!(facets("daily meal allowance when travelling abroad").is_empty());
        assert!(facets("cats and dogs").is_empty());
    }

    #[test]
    fn ascii_and_unicode_paths_hash_alike() {
        let mut got = Vec::new();
        for_each_word("Ünïcode ÉTÉ été, Straße—x2 İ", |h| got.push(h));
        let expected: Vec<u64> = words("Ünïcode ÉTÉ été, Straße—x2 İ")
            .map(|w| {
                // The reference: FNV-1a over the fully lowercased word.
                w.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
                })
            })
            .collect();
        assert_eq!(got, expected);
        assert_eq!(got[1], got[2]);
    }
}
