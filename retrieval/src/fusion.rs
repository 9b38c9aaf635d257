//! Fusing ranked lists from several channels into one.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How channel rankings are combined.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Fusion {
    /// Reciprocal rank fusion: sum over channels of 1 / (k + rank).
    Rrf {
        /// The rank constant (60 in the original paper and in most peers).
        k: f32,
    },
    /// Min-max normalised scores, `dense_weight * dense + (1 - dense_weight) * bm25`.
    Weighted {
        /// Weight of the dense channel, in 0..=1.
        dense_weight: f32,
    },
}

impl Default for Fusion {
    fn default() -> Self {
        Fusion::Rrf { k: 60.0 }
    }
}

/// Fuses `(ord, score)` lists, each sorted best first. Returns `(ord, fused)`
/// sorted best first, ties broken by ord.
pub(crate) fn fuse(fusion: Fusion, channels: &[&[(u32, f32)]]) -> Vec<(u32, f32)> {
    let mut fused: BTreeMap<u32, f32> = BTreeMap::new();
    match fusion {
        Fusion::Rrf { k } => {
            for list in channels {
                for (rank, (ord, _)) in list.iter().enumerate() {
                    *fused.entry(*ord).or_default() += 1.0 / (k + rank as f32 + 1.0);
                }
            }
        }
        Fusion::Weighted { dense_weight } => {
            let w = dense_weight.clamp(0.0, 1.0);
            // Channel order is (bm25, dense).
            let weights = [1.0 - w, w];
            for (list, weight) in channels.iter().zip(weights) {
                let (lo, hi) = list
                    .iter()
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), (_, s)| {
                        (lo.min(*s), hi.max(*s))
                    });
                let span = if hi > lo { hi - lo } else { 1.0 };
                for (ord, s) in list.iter() {
                    *fused.entry(*ord).or_default() += weight * (s - lo) / span;
                }
            }
        }
    }
    let mut out: Vec<(u32, f32)> = fused.into_iter().collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rrf_rewards_agreement() {
        let bm25 = [(1, 9.0), (2, 5.0), (3, 1.0)];
        let dense = [(2, 0.9), (4, 0.8), (1, 0.1)];
        let f = fuse(Fusion::default(), &[&bm25, &dense]);
        assert_eq!(f[0].0, 2, "{f:?}");
        assert!((f[0].1 - (1.0 / 62.0 + 1.0 / 61.0)).abs() < 1e-6);
        assert_eq!(f.len(), 4);
    }

    #[test]
    fn weighted_normalises_each_channel() {
        let bm25 = [(1, 10.0), (2, 0.0)];
        let dense = [(2, 0.9), (1, 0.5)];
        let f = fuse(Fusion::Weighted { dense_weight: 0.5 }, &[&bm25, &dense]);
        assert_eq!(f, vec![(1, 0.5), (2, 0.5)]);
    }
}
