//! BM25 in SQL, scored as the embedded index scores it.
//!
//! Each retrievable span keeps the terms the embedded index's analyser
//! gives its search text (title, headings, text; English-stemmed) as a
//! `tsvector` with their positions, and its length in terms; the store
//! keeps each term's document frequency and the total length. A query's
//! distinct terms find their spans through the GIN index (`@@` a
//! disjunction), and each span scores
//! `Σ idf(t) · tf·(k1+1) / (tf + k1·(1 − b + b·len/avglen))`
//! with `idf(t) = ln(1 + (N − df + 0.5)/(df + 0.5))`, k1 = 1.2, b = 0.75:
//! tantivy's BM25, so the two stores rank alike.

use std::collections::BTreeMap;

/// Positions a `tsvector` keeps per term (PostgreSQL's limit): the term
/// frequency of a longer span is capped there.
const MAX_POSITIONS: usize = 256;
/// The highest position a `tsvector` holds.
const MAX_POSITION: usize = 16_383;

/// The `tsvector` literal of `terms` (in order), and their number.
pub(crate) fn tsvector(terms: &[String]) -> (String, i32) {
    let mut positions: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, t) in terms.iter().enumerate() {
        let at = positions.entry(t.as_str()).or_default();
        if at.len() < MAX_POSITIONS {
            at.push((i + 1).min(MAX_POSITION));
        }
    }
    let mut out = String::new();
    for (term, at) in positions {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&quoted(term));
        out.push(':');
        let list: Vec<String> = at.iter().map(usize::to_string).collect();
        out.push_str(&list.join(","));
    }
    (out, terms.len() as i32)
}

/// The `tsquery` literal matching any of `terms`.
pub(crate) fn any_of(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| quoted(t))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A term as a `tsvector`/`tsquery` literal: quoted, quotes and
/// backslashes escaped.
fn quoted(term: &str) -> String {
    format!("'{}'", term.replace('\\', "\\\\").replace('\'', "''"))
}

/// The BM25 query: `$1` the distinct query terms, `$2` their disjunction
/// as a `tsquery`, `$3` N, `$4` the average length, `$5` k, then the
/// filter's parameters (`filter` is its SQL, over `s`).
pub(crate) fn query(filter: &str) -> String {
    format!(
        "WITH q AS (
            SELECT t.term, coalesce(d.df, 0)::float8 AS df
            FROM unnest($1::text[]) AS t(term)
            LEFT JOIN bubble_terms d ON d.term = t.term
        )
        SELECT s.ord,
            sum(ln(1 + ($3::float8 - q.df + 0.5) / (q.df + 0.5))
                * u.tf * 2.2 / (u.tf + 1.2 * (0.25 + 0.75 * s.terms_len / $4::float8)))::float4 AS score
        FROM bubble_spans s
        CROSS JOIN LATERAL (
            SELECT lexeme, cardinality(positions)::float8 AS tf FROM unnest(s.terms)
        ) u
        JOIN q ON q.term = u.lexeme
        WHERE s.terms @@ $2::text::tsquery {filter}
        GROUP BY s.ord
        ORDER BY score DESC, s.ord
        LIMIT $5::int8"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_quote_and_count() {
        let terms: Vec<String> = ["per", "diem", "per", "it's"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (v, n) = tsvector(&terms);
        assert_eq!(v, "'diem':2 'it''s':4 'per':1,3");
        assert_eq!(n, 4);
        assert_eq!(any_of(&terms[..2]), "'per' | 'diem'");
    }
}
