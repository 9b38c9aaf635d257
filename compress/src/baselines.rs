//! The baselines compression is measured against: units in one fixed
//! order, each kept while it fits. No groups, no redundancy, no merging.

use crate::kernels::Kernels;
use crate::outcome::{Compression, Fate, UnitOutcome};
use crate::units::UnitSet;

/// Keeps units in `order` while they fit in `target` tokens.
fn in_order(
    kernels: &dyn Kernels,
    units: &UnitSet,
    query: &[f32],
    target: usize,
    order: impl Iterator<Item = usize>,
) -> Compression {
    let rel = kernels.dots(units.vectors(), query, units.dim());
    let mut fate = vec![Fate::Dropped; units.len()];
    let mut spent = 0usize;
    for u in order {
        let t = units.tokens()[u] as usize;
        if spent + t <= target {
            fate[u] = Fate::Kept;
            spent += t;
        }
    }
    Compression {
        units: (0..units.len())
            .map(|u| UnitOutcome {
                group: units.groups()[u],
                rel: rel[u],
                red: 0.0,
                mig: rel[u],
                fate: fate[u],
            })
            .collect(),
        groups: Vec::new(),
        target,
        kept_tokens: spent,
    }
}

/// By cosine to the query, best first (ties: input order).
pub(crate) fn by_similarity(
    kernels: &dyn Kernels,
    units: &UnitSet,
    query: &[f32],
    target: usize,
) -> Compression {
    let rel = kernels.dots(units.vectors(), query, units.dim());
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| rel[b].total_cmp(&rel[a]).then(a.cmp(&b)));
    in_order(kernels, units, query, target, order.into_iter())
}

/// In input (source) order.
pub(crate) fn lead(
    kernels: &dyn Kernels,
    units: &UnitSet,
    query: &[f32],
    target: usize,
) -> Compression {
    in_order(kernels, units, query, target, 0..units.len())
}

/// In an order drawn from `seed` (the same seed, the same order).
pub(crate) fn random(
    kernels: &dyn Kernels,
    units: &UnitSet,
    query: &[f32],
    target: usize,
    seed: u64,
) -> Compression {
    let mut order: Vec<(u64, usize)> = (0..units.len())
        .map(|u| {
            (
                splitmix(seed ^ (u as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
                u,
            )
        })
        .collect();
    order.sort_unstable();
    in_order(
        kernels,
        units,
        query,
        target,
        order.into_iter().map(|(_, u)| u),
    )
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
