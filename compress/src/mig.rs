//! Marginal information gain, coarse to fine (the method), and flat (the
//! same without the coarse stage, to measure what the coarse stage adds).

use crate::allocate::allocate;
use crate::greedy::Greedy;
use crate::kernels::{dot, Kernels};
use crate::outcome::{Compression, GroupOutcome};
use crate::params::Params;
use crate::units::UnitSet;

/// The method: coarse allotments per group, fine MIG inside each, merging.
pub(crate) fn coarse_to_fine(
    kernels: &dyn Kernels,
    units: &UnitSet,
    query: &[f32],
    params: &Params,
    target: usize,
) -> Compression {
    let mut g = Greedy::new(kernels, units, query, params);
    let n = units.group_count();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (u, &grp) in units.groups().iter().enumerate() {
        members[grp as usize].push(u);
    }
    // Each group's representative: its most relevant unit (ties: the first).
    let reps: Vec<Option<usize>> = members
        .iter()
        .map(|m| {
            m.iter()
                .copied()
                .max_by(|&a, &b| g.relevance(a).total_cmp(&g.relevance(b)).then(b.cmp(&a)))
        })
        .collect();
    // Groups in order of relevance; a group's redundancy is its
    // representative's similarity to the representatives of the groups
    // before it, so of two groups that say the same, the first keeps its
    // allotment and the second loses it (a symmetric maximum would cut both).
    let mut present: Vec<usize> = (0..n).filter(|&i| reps[i].is_some()).collect();
    present.sort_by(|&a, &b| {
        let (ra, rb) = (
            reps[a].map_or(0.0, |r| g.relevance(r)),
            reps[b].map_or(0.0, |r| g.relevance(r)),
        );
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    let dim = units.dim();
    let mut rows = Vec::with_capacity(present.len() * dim);
    for &i in &present {
        rows.extend_from_slice(units.vector(reps[i].unwrap_or(0)));
    }
    let earlier = max_to_earlier(kernels, &rows, dim);
    let mut groups: Vec<GroupOutcome> = (0..n)
        .map(|i| GroupOutcome {
            rel: 0.0,
            red: 0.0,
            mig: 0.0,
            representative: reps[i],
            allotment: 0,
            kept: 0,
        })
        .collect();
    for (&i, &d) in present.iter().zip(&earlier) {
        let rel = reps[i].map_or(0.0, |r| g.relevance(r));
        let red = g.background.across(d);
        groups[i].rel = rel;
        groups[i].red = red;
        groups[i].mig = params.alpha * rel - params.beta * red;
    }
    let mut order = present.clone();
    order.sort_by(|&a, &b| groups[b].mig.total_cmp(&groups[a].mig).then(a.cmp(&b)));
    // With `every_group`, each group's representative first, in MIG order,
    // while the target holds them: compression trims what was chosen span
    // by span, and does not overturn the choice of a span.
    let mut guaranteed = vec![0usize; n];
    let mut left = target;
    if params.every_group {
        for &i in &order {
            if let Some(r) = reps[i] {
                guaranteed[i] = g.fill(vec![r], left);
                left -= guaranteed[i];
            }
        }
    }
    let caps: Vec<usize> = members
        .iter()
        .zip(&guaranteed)
        .map(|(m, &kept)| m.iter().map(|&u| units.tokens()[u] as usize).sum::<usize>() - kept)
        .collect();
    let mig: Vec<f32> = groups.iter().map(|x| x.mig).collect();
    let allot = allocate(left, &mig, params.temperature, &caps);
    // What a group cannot spend (its next unit does not fit what is left
    // of its allotment) goes, in the end, to the best units left anywhere.
    let mut unspent = 0usize;
    for &i in &order {
        groups[i].allotment = guaranteed[i] + allot[i];
        unspent += allot[i] - g.fill(members[i].clone(), allot[i]);
    }
    if unspent > 0 {
        g.fill((0..units.len()).collect(), unspent);
    }
    regroup_kept(&mut groups, &g);
    g.finish(groups, target)
}

/// For each row, the highest cosine to the rows before it (0 for the first):
/// blocks of rows against everything before them through the kernels, the
/// triangle inside a block on the CPU.
fn max_to_earlier(kernels: &dyn Kernels, rows: &[f32], dim: usize) -> Vec<f32> {
    const CHUNK: usize = 256;
    let n = rows.len() / dim.max(1);
    let mut out = vec![0.0f32; n];
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let chunk = &rows[start * dim..end * dim];
        if start > 0 {
            let best = kernels.max_dots(chunk, &rows[..start * dim], dim, None);
            for (o, (d, _)) in out[start..end].iter_mut().zip(best) {
                *o = d.max(0.0);
            }
        }
        for i in start..end {
            for j in start..i {
                let d = dot(&rows[i * dim..(i + 1) * dim], &rows[j * dim..(j + 1) * dim]);
                out[i] = out[i].max(d);
            }
        }
    }
    out
}

/// Recounts each group's kept tokens after the final pass.
fn regroup_kept(groups: &mut [GroupOutcome], g: &Greedy<'_>) {
    for x in groups.iter_mut() {
        x.kept = 0;
    }
    for &u in &g.kept {
        let grp = g.units.groups()[u] as usize;
        if let Some(x) = groups.get_mut(grp) {
            x.kept += g.units.tokens()[u] as usize;
        }
    }
}

/// MIG over all units at once, then merging: no coarse stage.
pub(crate) fn flat(
    kernels: &dyn Kernels,
    units: &UnitSet,
    query: &[f32],
    params: &Params,
    target: usize,
) -> Compression {
    let mut g = Greedy::new(kernels, units, query, params);
    g.fill((0..units.len()).collect(), target);
    g.finish(Vec::new(), target)
}
