//! The rerank blend: how the ranker's scores join BM25's.

/// A rerank score per candidate: `(1 − weight) × BM25 + weight × ranker`,
/// each min-max normalised over the candidates (a score a candidate lacks
/// counts 0): the ranker takes the dense channel's place in the weighted
/// fusion, so identity heads give back the fused order.
pub fn blend(bm25: &[Option<f32>], ranker: &[Option<f32>], weight: f32) -> Vec<f32> {
    let range = |xs: &[Option<f32>]| {
        xs.iter()
            .flatten()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            })
    };
    let norm = |x: Option<f32>, (lo, hi): (f32, f32)| {
        x.map_or(0.0, |x| if hi > lo { (x - lo) / (hi - lo) } else { 1.0 })
    };
    let (rb, rr) = (range(bm25), range(ranker));
    bm25.iter()
        .zip(ranker)
        .map(|(&b, &r)| (1.0 - weight) * norm(b, rb) + weight * norm(r, rr))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::blend;

    #[test]
    fn scores_are_normalised_and_a_missing_one_counts_zero() {
        let bm25 = [Some(2.0), Some(4.0), None];
        let ranker = [Some(0.5), None, Some(0.9)];
        let got = blend(&bm25, &ranker, 0.5);
        // BM25 → 0, 1, 0; ranker → 0, 0, 1.
        assert_eq!(got, vec![0.0, 0.5, 0.5]);
        // One value alone normalises to 1.
        assert_eq!(blend(&[Some(3.0)], &[Some(0.1)], 0.25), vec![1.0]);
    }
}
