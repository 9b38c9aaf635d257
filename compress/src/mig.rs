//! Marginal information gain, coarse to fine (the method), and flat (the
//! same without the coarse stage, to measure what the coarse stage adds).

use crate::allocate::allocate;
use crate::kernels::Kernels;
use crate::outcome::{Compression, Fate, GroupOutcome, UnitOutcome};
use crate::params::Params;
use crate::units::UnitSet;

/// The greedy state shared by both: relevance, running redundancy, and
/// what is kept so far.
pub(crate) struct Greedy<'a> {
    kernels: &'a dyn Kernels,
    units: &'a UnitSet,
    alpha: f32,
    beta: f32,
    merge: Option<f32>,
    pub(crate) rel: Vec<f32>,
    /// Highest cosine to `kept[..seen[u]]`, and where in `kept` it is.
    red: Vec<f32>,
    nearest: Vec<u32>,
    seen: Vec<u32>,
    fate: Vec<Option<Fate>>,
    kept: Vec<usize>,
    kept_vectors: Vec<f32>,
    pub(crate) kept_tokens: usize,
}

impl<'a> Greedy<'a> {
    pub(crate) fn new(
        kernels: &'a dyn Kernels,
        units: &'a UnitSet,
        query: &[f32],
        params: &Params,
    ) -> Greedy<'a> {
        Greedy {
            kernels,
            units,
            alpha: params.alpha,
            beta: params.beta,
            merge: params.merge_threshold,
            rel: kernels.dots(units.vectors(), query, units.dim()),
            red: vec![0.0; units.len()],
            nearest: vec![u32::MAX; units.len()],
            seen: vec![0; units.len()],
            fate: vec![None; units.len()],
            kept: Vec::new(),
            kept_vectors: Vec::new(),
            kept_tokens: 0,
        }
    }

    fn mig(&self, u: usize) -> f32 {
        self.alpha * self.rel[u] - self.beta * self.red[u]
    }

    /// Brings the redundancy of `open` units up to date with everything
    /// kept: each unit is compared only with what was kept since it was
    /// last brought up to date, so no pair is ever computed twice.
    fn refresh(&mut self, open: &[usize]) {
        let dim = self.units.dim();
        let now = self.kept.len() as u32;
        let mut stale: Vec<usize> = open
            .iter()
            .copied()
            .filter(|&u| self.seen[u] < now)
            .collect();
        // Units last refreshed together share a start: one kernel call each.
        stale.sort_by_key(|&u| (self.seen[u], u));
        let runs: Vec<(usize, Vec<usize>)> = stale
            .chunk_by(|&a, &b| self.seen[a] == self.seen[b])
            .map(|run| (self.seen[run[0]] as usize, run.to_vec()))
            .collect();
        for (from, run) in runs {
            let mut rows = Vec::with_capacity(run.len() * dim);
            for &u in &run {
                rows.extend_from_slice(self.units.vector(u));
            }
            let best = self
                .kernels
                .max_dots(&rows, &self.kept_vectors[from * dim..], dim, None);
            for (&u, (d, j)) in run.iter().zip(best) {
                self.note(u, d, from as u32 + j);
                self.seen[u] = now;
            }
        }
    }

    /// Records that unit `u` has cosine `d` to `kept[at]`.
    fn note(&mut self, u: usize, d: f32, at: u32) {
        if self.nearest[u] == u32::MAX || d > self.red[u] {
            self.red[u] = d.max(0.0);
            self.nearest[u] = at;
        }
    }

    /// Keeps units of `open` by MIG while they fit in `budget` tokens;
    /// a unit at or above the merge threshold is never kept (it will fold
    /// into the unit it repeats). Returns the tokens spent.
    pub(crate) fn fill(&mut self, mut open: Vec<usize>, budget: usize) -> usize {
        open.retain(|&u| self.fate[u].is_none());
        let tokens = self.units.tokens();
        if open.iter().all(|&u| tokens[u] as usize > budget) {
            return 0;
        }
        self.refresh(&open);
        let mut spent = 0usize;
        loop {
            let room = budget - spent;
            let best = open
                .iter()
                .copied()
                .filter(|&u| {
                    tokens[u] as usize <= room && self.merge.is_none_or(|t| self.red[u] < t)
                })
                .max_by(|&a, &b| self.mig(a).total_cmp(&self.mig(b)).then(b.cmp(&a)));
            let Some(b) = best else { break };
            self.fate[b] = Some(Fate::Kept);
            self.kept.push(b);
            self.kept_vectors.extend_from_slice(self.units.vector(b));
            spent += tokens[b] as usize;
            open.retain(|&u| u != b);
            let at = self.kept.len() as u32 - 1;
            for &u in &open {
                if self.seen[u] == at {
                    let d = crate::kernels::dot(self.units.vector(u), self.units.vector(b));
                    self.note(u, d, at);
                    self.seen[u] = at + 1;
                }
            }
        }
        self.kept_tokens += spent;
        spent
    }

    /// Folds every undecided unit at or above the merge threshold into the
    /// kept unit it is closest to; drops the rest.
    fn finish(mut self, groups: Vec<GroupOutcome>, target: usize) -> Compression {
        if let (Some(t), false) = (self.merge, self.kept.is_empty()) {
            let open: Vec<usize> = (0..self.units.len())
                .filter(|&u| self.fate[u].is_none())
                .collect();
            self.refresh(&open);
            for u in open {
                if self.red[u] >= t {
                    let into = self.kept[self.nearest[u] as usize];
                    self.fate[u] = Some(Fate::MergedInto(into));
                }
            }
        }
        let units = (0..self.units.len())
            .map(|u| UnitOutcome {
                group: self.units.groups()[u],
                rel: self.rel[u],
                red: self.red[u],
                mig: self.mig(u),
                fate: self.fate[u].unwrap_or(Fate::Dropped),
            })
            .collect();
        Compression {
            units,
            groups,
            target,
            kept_tokens: self.kept_tokens,
        }
    }
}

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
                .max_by(|&a, &b| g.rel[a].total_cmp(&g.rel[b]).then(b.cmp(&a)))
        })
        .collect();
    let present: Vec<usize> = (0..n).filter(|&i| reps[i].is_some()).collect();
    let dim = units.dim();
    let mut rows = Vec::with_capacity(present.len() * dim);
    for &i in &present {
        rows.extend_from_slice(units.vector(reps[i].unwrap_or(0)));
    }
    let ids: Vec<u32> = present.iter().map(|&i| i as u32).collect();
    let nearest = kernels.max_dots(&rows, &rows, dim, Some((&ids, &ids)));
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
    for (&i, (d, _)) in present.iter().zip(&nearest) {
        let rel = reps[i].map_or(0.0, |r| g.rel[r]);
        let red = if d.is_finite() { d.max(0.0) } else { 0.0 };
        groups[i].rel = rel;
        groups[i].red = red;
        groups[i].mig = params.alpha * rel - params.beta * red;
    }
    let caps: Vec<usize> = members
        .iter()
        .map(|m| m.iter().map(|&u| units.tokens()[u] as usize).sum())
        .collect();
    let mig: Vec<f32> = groups.iter().map(|x| x.mig).collect();
    let allot = allocate(target, &mig, params.temperature, &caps);
    let mut order = present.clone();
    order.sort_by(|&a, &b| groups[b].mig.total_cmp(&groups[a].mig).then(a.cmp(&b)));
    // Unspent allotment flows on to the next group in MIG order.
    let mut carry = 0usize;
    for &i in &order {
        groups[i].allotment = allot[i];
        let budget = allot[i] + carry;
        carry = budget - g.fill(members[i].clone(), budget);
    }
    // What no group could use goes to the best units left anywhere.
    if carry > 0 {
        g.fill((0..units.len()).collect(), carry);
    }
    regroup_kept(&mut groups, &g);
    g.finish(groups, target)
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
