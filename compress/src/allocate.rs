//! The coarse stage's arithmetic: a token target spread over groups by a
//! softmax over their MIG, capped by what each group holds, rounded so the
//! allotments sum to the target exactly.

/// Splits `target` tokens over groups in proportion to `softmax(mig / t)`,
/// never giving a group more than its `caps` (its tokens). A capped group's
/// excess is spread over the others in proportion again (water-filling);
/// shares are rounded down and the tokens left over go one each to the
/// largest fractional parts (ties: the lower group), so the allotments sum
/// to `min(target, Σ caps)` exactly.
pub fn allocate(target: usize, mig: &[f32], temperature: f32, caps: &[usize]) -> Vec<usize> {
    let n = mig.len().min(caps.len());
    let mut out = vec![0usize; n];
    let total: usize = caps[..n].iter().sum();
    let mut left = target.min(total);
    if n == 0 || left == 0 {
        return out;
    }
    let top = mig[..n]
        .iter()
        .zip(&caps[..n])
        .filter(|(_, &c)| c > 0)
        .map(|(&m, _)| m)
        .fold(f32::NEG_INFINITY, f32::max);
    let weight: Vec<f64> = (0..n)
        .map(|g| {
            if caps[g] == 0 {
                0.0
            } else {
                (f64::from((mig[g] - top) / temperature)).exp()
            }
        })
        .collect();
    let mut open: Vec<usize> = (0..n).filter(|&g| caps[g] > 0).collect();
    // Water-filling: whoever the proportional share would overfill is capped.
    loop {
        let sum: f64 = open.iter().map(|&g| weight[g]).sum();
        let share = |g: usize| {
            if sum > 0.0 {
                left as f64 * weight[g] / sum
            } else {
                left as f64 / open.len() as f64
            }
        };
        let full: Vec<usize> = open
            .iter()
            .copied()
            .filter(|&g| share(g) >= caps[g] as f64)
            .collect();
        if full.is_empty() {
            let shares: Vec<(usize, f64)> = open.iter().map(|&g| (g, share(g))).collect();
            for &(g, s) in &shares {
                out[g] = s.floor() as usize;
            }
            let given: usize = shares.iter().map(|&(g, _)| out[g]).sum();
            let mut by_fraction: Vec<(usize, f64)> =
                shares.iter().map(|&(g, s)| (g, s - s.floor())).collect();
            by_fraction.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            for &(g, _) in by_fraction.iter().take(left - given) {
                out[g] += 1;
            }
            return out;
        }
        for g in full {
            out[g] = caps[g];
            left -= caps[g];
            open.retain(|&o| o != g);
        }
        if left == 0 || open.is_empty() {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn follows_the_softmax_and_meets_the_target_exactly() {
        let a = allocate(100, &[0.5, 0.5], 0.1, &[1000, 1000]);
        assert_eq!(a, vec![50, 50]);
        let a = allocate(101, &[0.5, 0.5], 0.1, &[1000, 1000]);
        assert_eq!(a, vec![51, 50], "the tie goes to the lower group");
        let a = allocate(100, &[0.7, 0.5], 0.1, &[1000, 1000]);
        assert!(a[0] > 80 && a[0] + a[1] == 100, "{a:?}");
        let hot = allocate(100, &[0.7, 0.5], 10.0, &[1000, 1000]);
        assert!(
            hot[0] - hot[1] < 3,
            "a high temperature spreads evenly: {hot:?}"
        );
    }

    #[test]
    fn capped_groups_pass_their_excess_on() {
        let a = allocate(100, &[0.9, 0.1, 0.1], 0.1, &[10, 1000, 1000]);
        assert_eq!(a, vec![10, 45, 45]);
        assert_eq!(allocate(100, &[0.9, 0.1], 0.1, &[10, 20]), vec![10, 20]);
        assert_eq!(allocate(5, &[0.1, 0.9], 0.1, &[0, 20]), vec![0, 5]);
        assert!(allocate(0, &[0.1], 0.1, &[5]).iter().all(|&x| x == 0));
        assert!(allocate(10, &[], 0.1, &[]).is_empty());
    }

    proptest! {
        #[test]
        fn sums_exactly_and_respects_caps(
            groups in proptest::collection::vec((-1.0f32..1.0, 0usize..300), 1..40),
            target in 0usize..5000,
            temperature in 0.01f32..5.0,
        ) {
            let mig: Vec<f32> = groups.iter().map(|g| g.0).collect();
            let caps: Vec<usize> = groups.iter().map(|g| g.1).collect();
            let a = allocate(target, &mig, temperature, &caps);
            prop_assert_eq!(a.iter().sum::<usize>(), target.min(caps.iter().sum()));
            for (x, c) in a.iter().zip(&caps) {
                prop_assert!(x <= c);
            }
        }
    }
}
