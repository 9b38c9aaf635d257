//! Information-retrieval metrics over one ranked list of document ids, plus the
//! small aggregates the tables need.
//!
//! The conventions follow BEIR, which scores with `pytrec_eval` (trec_eval), so
//! our numbers are comparable with published ones: linear gain (`rel`, not
//! `2^rel - 1`; identical for binary judgements), discount `log2(rank + 1)` with
//! ranks from 1, and the ideal DCG computed from all judged relevances.

use std::collections::{BTreeMap, BTreeSet};

/// The first `k` distinct ids of `ranked`, in order.
///
/// A run scored by trec_eval cannot hold a document twice, so a duplicate here
/// is a retriever bug that must not earn gain twice nor push later documents
/// down: it is dropped and the next distinct id takes its rank.
fn top_k_distinct(ranked: &[String], k: usize) -> Vec<&str> {
    let mut seen = BTreeSet::new();
    ranked
        .iter()
        .map(String::as_str)
        .filter(|id| seen.insert(*id))
        .take(k)
        .collect()
}

/// Discount of a 0-based position: `log2(rank + 1)` with `rank = pos + 1`.
fn discount(pos: usize) -> f64 {
    ((pos + 2) as f64).log2()
}

/// nDCG@k of `ranked` against the judgements `rels` (doc id → relevance).
///
/// Returns 0 when `k` is 0 or no document has relevance above 0.
pub fn ndcg_at_k(ranked: &[String], rels: &BTreeMap<String, u32>, k: usize) -> f64 {
    let mut ideal: Vec<u32> = rels.values().copied().filter(|&r| r > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(pos, &r)| f64::from(r) / discount(pos))
        .sum();
    if idcg == 0.0 {
        return 0.0;
    }
    let dcg: f64 = top_k_distinct(ranked, k)
        .iter()
        .enumerate()
        .map(|(pos, id)| f64::from(rels.get(*id).copied().unwrap_or(0)) / discount(pos))
        .sum();
    dcg / idcg
}

/// Recall@k: relevant documents (relevance above 0) among the top `k` distinct
/// ids, divided by the number of relevant documents.
///
/// Returns 0 when nothing is relevant; BEIR skips such queries, and so should
/// callers, rather than average these zeros in.
pub fn recall_at_k(ranked: &[String], rels: &BTreeMap<String, u32>, k: usize) -> f64 {
    let total = rels.values().filter(|&&r| r > 0).count();
    if total == 0 {
        return 0.0;
    }
    let hits = top_k_distinct(ranked, k)
        .iter()
        .filter(|id| rels.get(**id).is_some_and(|&r| r > 0))
        .count();
    hits as f64 / total as f64
}

/// Arithmetic mean; 0 for an empty slice so that an empty table row prints as 0
/// instead of NaN.
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The `p`-th percentile (`p` in `0..=100`, clamped) by the nearest-rank
/// method: the smallest value such that at least `p`% of the values are less
/// than or equal to it. The input need not be sorted. 0 for an empty slice.
///
/// Nearest-rank always returns an observed value (no interpolation), which is
/// what a latency table should show.
pub fn percentile(sorted_or_not: &[f64], p: f64) -> f64 {
    if sorted_or_not.is_empty() {
        return 0.0;
    }
    let mut xs = sorted_or_not.to_vec();
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 100.0) };
    // Rank from 1; p = 0 would give rank 0, which means the minimum.
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    xs[rank.clamp(1, n) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    fn rels(xs: &[(&str, u32)]) -> BTreeMap<String, u32> {
        xs.iter().map(|(d, r)| (d.to_string(), *r)).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn ndcg_perfect_ranking_is_one() {
        let r = rels(&[("a", 1), ("b", 1)]);
        assert!(close(ndcg_at_k(&ids(&["a", "b", "c"]), &r, 10), 1.0));
        assert!(close(ndcg_at_k(&ids(&["b", "a"]), &r, 10), 1.0));
    }

    #[test]
    fn ndcg_single_relevant_at_rank_two() {
        let r = rels(&[("a", 1)]);
        let got = ndcg_at_k(&ids(&["x", "a", "y"]), &r, 10);
        assert!(close(got, 1.0 / 3f64.log2()));
    }

    #[test]
    fn ndcg_two_relevant_ranks_one_and_three() {
        let r = rels(&[("a", 1), ("b", 1)]);
        let got = ndcg_at_k(&ids(&["a", "x", "b"]), &r, 10);
        let dcg = 1.0 + 1.0 / 4f64.log2();
        let idcg = 1.0 + 1.0 / 3f64.log2();
        assert!(close(got, dcg / idcg));
        assert!(close(got, 0.919_720_789_148_187_6), "{got}");
    }

    #[test]
    fn ndcg_graded_uses_linear_gain() {
        let r = rels(&[("a", 2), ("b", 1)]);
        let got = ndcg_at_k(&ids(&["b", "a"]), &r, 10);
        let dcg = 1.0 + 2.0 / 3f64.log2();
        let idcg = 2.0 + 1.0 / 3f64.log2();
        assert!(close(got, dcg / idcg));
    }

    #[test]
    fn ndcg_cutoff_and_degenerate_cases() {
        let r = rels(&[("a", 1)]);
        // Relevant document just past the cutoff.
        assert_eq!(ndcg_at_k(&ids(&["x", "y", "a"]), &r, 2), 0.0);
        assert_eq!(ndcg_at_k(&ids(&["a"]), &r, 0), 0.0);
        assert_eq!(ndcg_at_k(&[], &r, 10), 0.0);
        // No relevant judgement at all (rel 0 does not count).
        assert_eq!(ndcg_at_k(&ids(&["a"]), &rels(&[("a", 0)]), 10), 0.0);
        assert_eq!(ndcg_at_k(&ids(&["a"]), &BTreeMap::new(), 10), 0.0);
    }

    #[test]
    fn ndcg_ideal_is_cut_at_k() {
        // 12 relevant documents, all retrieved: the ideal only counts the top 10.
        let names: Vec<String> = (0..12).map(|i| format!("d{i}")).collect();
        let r: BTreeMap<String, u32> = names.iter().map(|d| (d.clone(), 1)).collect();
        assert!(close(ndcg_at_k(&names, &r, 10), 1.0));
    }

    #[test]
    fn duplicates_count_once() {
        let r = rels(&[("a", 1)]);
        // "x" twice: "a" takes rank 2, not 3, and earns no double gain.
        let got = ndcg_at_k(&ids(&["x", "x", "a"]), &r, 10);
        assert!(close(got, 1.0 / 3f64.log2()));
        assert!(close(ndcg_at_k(&ids(&["a", "a"]), &r, 10), 1.0));
        let r2 = rels(&[("a", 1), ("b", 1)]);
        assert!(close(recall_at_k(&ids(&["a", "a", "b"]), &r2, 2), 1.0));
    }

    #[test]
    fn recall_counts_relevant_in_top_k() {
        let r = rels(&[("a", 1), ("b", 1), ("c", 0)]);
        assert!(close(recall_at_k(&ids(&["a", "c", "x"]), &r, 10), 0.5));
        assert!(close(recall_at_k(&ids(&["x", "a", "b"]), &r, 2), 0.5));
        assert!(close(recall_at_k(&ids(&["x", "a", "b"]), &r, 3), 1.0));
        assert_eq!(recall_at_k(&ids(&["a"]), &BTreeMap::new(), 10), 0.0);
    }

    #[test]
    fn mean_and_percentile() {
        assert_eq!(mean(&[]), 0.0);
        assert!(close(mean(&[1.0, 2.0, 6.0]), 3.0));
        let xs = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0, 9.0, 8.0, 7.0, 6.0];
        assert_eq!(percentile(&xs, 50.0), 5.0);
        assert_eq!(percentile(&xs, 90.0), 9.0);
        assert_eq!(percentile(&xs, 95.0), 10.0);
        assert_eq!(percentile(&xs, 99.0), 10.0);
        assert_eq!(percentile(&xs, 100.0), 10.0);
        assert_eq!(percentile(&xs, 0.0), 1.0);
        assert_eq!(percentile(&xs, 11.0), 2.0);
        assert_eq!(percentile(&xs, 250.0), 10.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
        assert_eq!(percentile(&[42.0], 50.0), 42.0);
    }
}
