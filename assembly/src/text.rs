//! Lexical helpers shared by the bubble operators: query terms, term
//! counts and word overlap, all on lowercased alphanumeric words.

use std::collections::HashSet;

const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "has",
    "have", "how", "i", "if", "in", "is", "it", "its", "my", "of", "on", "or", "our", "should",
    "that", "the", "their", "there", "this", "to", "was", "we", "what", "when", "where", "which",
    "who", "why", "will", "with", "you", "your",
];

/// Lowercased alphanumeric words.
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

/// Occurrences of any query term in `text` (the paper's tf(c, q)).
pub fn term_count(terms: &[String], text: &str) -> usize {
    words(text).filter(|w| terms.contains(w)).count()
}

/// The set of words of a text.
pub fn word_set(text: &str) -> HashSet<String> {
    words(text).collect()
}

/// |words(x) ∩ bubble| / |words(x)|: the paper's redundancy.
pub fn overlap(x: &HashSet<String>, bubble: &HashSet<String>) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    x.iter().filter(|w| bubble.contains(*w)).count() as f32 / x.len() as f32
}
