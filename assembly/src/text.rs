//! Lexical features shared by the bubble operators: query terms, term
//! counts and word overlap. Words are lowercased alphanumeric runs, hashed
//! to `u64` on the fly: a selection over 200 candidates touches every word
//! of every candidate several times, and allocating a `String` per word
//! would cost more than the selection itself.

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

/// Calls `f` with the hash of every lowercased alphanumeric word of `text`.
pub fn for_each_word(text: &str, mut f: impl FnMut(u64)) {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut h = OFFSET;
    let mut in_word = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                let mut buf = [0u8; 4];
                for b in l.encode_utf8(&mut buf).bytes() {
                    h = (h ^ u64::from(b)).wrapping_mul(PRIME);
                }
            }
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

/// What the selection needs to know about one candidate's words.
#[derive(Debug, Clone, Default)]
pub struct Lexical {
    /// Distinct word hashes, sorted.
    pub words: Vec<u64>,
    /// Occurrences of query terms in the text (the paper's tf).
    pub tf: u32,
    /// Which query terms (by position, the first 64) the text or its headings mention.
    pub terms: u64,
}

impl Lexical {
    /// Features of `text` (headings count for coverage, not for tf).
    pub fn new(text: &str, headings: &str, query: &[u64]) -> Lexical {
        let mut lex = Lexical::default();
        for_each_word(text, |h| {
            lex.words.push(h);
            if let Some(i) = query.iter().position(|&q| q == h) {
                lex.tf += 1;
                lex.terms |= 1u64 << i.min(63);
            }
        });
        for_each_word(headings, |h| {
            if let Some(i) = query.iter().position(|&q| q == h) {
                lex.terms |= 1u64 << i.min(63);
            }
        });
        lex.words.sort_unstable();
        lex.words.dedup();
        lex
    }

    /// |words(self) ∩ bubble| / |words(self)|: the paper's redundancy.
    pub fn overlap_with(&self, bubble: &HashSet<u64>) -> f32 {
        if self.words.is_empty() {
            return 0.0;
        }
        self.words.iter().filter(|w| bubble.contains(w)).count() as f32 / self.words.len() as f32
    }

    /// |words(self) ∩ words(other)| / |words(self)|, by merging sorted lists.
    pub fn overlap(&self, other: &Lexical) -> f32 {
        let (a, b) = (&self.words, &other.words);
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
        let lex = Lexical::new("pro plan: price 49, price again", "Pricing", &q);
        assert_eq!(lex.tf, 3);
        assert_eq!(lex.terms, 0b11);
        let other = Lexical::new("the price", "", &q);
        assert!((other.overlap(&lex) - 0.5).abs() < 1e-6);
    }
}
