//! BM25 in SQL, scored as the embedded index scores it.
//!
//! Each retrievable span's search text (title, headings, text) is cut into
//! terms by the embedded index's own analyser (English-stemmed words), and
//! the store keeps an inverted index of them: one posting per (term, span)
//! with the term's frequency in the span and the span's length in terms,
//! found by term through a covering index; each term's document frequency
//! and the total length are kept too. A query reads the postings of its
//! distinct terms and sums, per span,
//! `idf(t) · tf·(k1+1) / (tf + k1·(1 − b + b·len/avglen))`
//! with `idf(t) = ln(1 + (N − df + 0.5)/(df + 0.5))`, k1 = 1.2, b = 0.75:
//! tantivy's BM25, so the two stores rank alike. Common terms are read only
//! for the spans the rarer ones found, when that provably changes nothing
//! ([`POSTINGS_PER_RESULT`]). (PostgreSQL's own
//! `ts_rank_cd` does not weigh a term by its rarity; the README compares.)

use std::collections::BTreeMap;

/// Each distinct term of `terms` and how often it occurs.
pub(crate) fn frequencies(terms: &[String]) -> BTreeMap<&str, i32> {
    let mut out: BTreeMap<&str, i32> = BTreeMap::new();
    for t in terms {
        *out.entry(t.as_str()).or_default() += 1;
    }
    out
}

/// The postings a query reads in full, per result asked for. Terms are
/// taken rarest first while the postings before them stay under this
/// budget (the *essential* terms, which decide which spans rank); of each
/// other term — words like "of" and "the", in most spans, with an idf near
/// 0 — only the postings of the 2·k spans it weighs most in are read. A
/// span outside them loses at most that term's 2.2 · idf, a few hundredths
/// of a point against scores of 10 and more: the ranking tantivy gives,
/// at a fraction of the rows.
pub(crate) const POSTINGS_PER_RESULT: i64 = 10;

/// The BM25 query: `$1` the distinct query terms, `$2` N, `$3` the mean
/// length, `$4` k, `$5` the essential terms' postings budget
/// ([`POSTINGS_PER_RESULT`] · k), then the filter's parameters (`filter` is
/// its SQL, over the postings aliased `s`). Lengths are cast to float8:
/// `0.75 * len` alone would be numeric arithmetic, far slower per row.
pub(crate) fn query(filter: &str) -> String {
    format!(
        "WITH terms AS (
            SELECT t.term, coalesce(d.df, 0) AS df
            FROM unnest($1::text[]) AS t(term)
            LEFT JOIN bubble_terms d ON d.term = t.term
        ),
        q AS (
            SELECT term,
                ln(1 + ($2::float8 - df + 0.5) / (df + 0.5)) AS idf,
                coalesce(sum(df) OVER (ORDER BY df, term
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) < $5::int8 AS essential
            FROM terms
        ),
        postings AS (
            SELECT q.idf, s.ord, s.tf, s.len
            FROM q JOIN bubble_postings s ON s.term = q.term
            WHERE q.essential {filter}
            UNION ALL
            SELECT q.idf, p.ord, p.tf, p.len
            FROM q CROSS JOIN LATERAL (
                SELECT s.ord, s.tf, s.len FROM bubble_postings s
                WHERE s.term = q.term {filter}
                ORDER BY s.impact DESC
                LIMIT 2 * $4::int8
            ) p
            WHERE NOT q.essential
        )
        SELECT ord,
            sum(idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len::float8 / $3::float8)))::float4 AS score
        FROM postings
        GROUP BY ord
        ORDER BY score DESC, ord
        LIMIT $4::int8"
    )
}

/// A posting's weight in its span, for ordering a term's postings: BM25's
/// term-frequency part at the store's mean length when written.
pub(crate) const IMPACT_SQL: &str =
    "tf::float4 / (tf + 1.2 * (0.25 + 0.75 * len::float8 / $7::float8))";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequencies_count_each_term() {
        let terms: Vec<String> = ["per", "diem", "per"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let f = frequencies(&terms);
        assert_eq!(f.get("per"), Some(&2));
        assert_eq!(f.get("diem"), Some(&1));
        assert_eq!(f.len(), 2);
    }
}
