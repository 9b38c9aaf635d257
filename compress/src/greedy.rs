//! The greedy state both MIG variants share: relevance, redundancy above
//! the input's background similarity, what is kept, and merging.

use crate::kernels::{dot, Kernels};
use crate::outcome::{Compression, Fate, GroupOutcome, UnitOutcome};
use crate::params::Params;
use crate::units::UnitSet;

/// The greedy state shared by both: relevance, running redundancy, and
/// what is kept so far.
///
/// Redundancy is the highest similarity to a kept unit above a floor,
/// rescaled to 0..1: `(cos − floor) / (1 − floor)`. Why a floor: related is
/// not redundant. On SQuAD, neighbouring sentences of one paragraph sit at
/// cosine 0.78 (units pooled from one forward pass share its context), two
/// paragraphs of one article at 0.43, a sentence and its copy-edited twin
/// in another document at 0.98; with a plain cosine MIG takes the sentence
/// on topic for a repeat of its neighbour and keeps what is off topic
/// because it is new (answer retention at rate 0.25: 0.913 against 0.975
/// for plain similarity). The floors are measured on the input
/// (`Backgrounds`), one for units of one block and one for units of two.
/// Merging compares plain cosines, and folds only units of other blocks: a
/// paragraph does not repeat itself.
pub(crate) struct Greedy<'a> {
    kernels: &'a dyn Kernels,
    pub(crate) units: &'a UnitSet,
    alpha: f32,
    beta: f32,
    merge: Option<f32>,
    pub(crate) background: Backgrounds,
    pub(crate) rel: Vec<f32>,
    /// The caller's prior, plus `lead_weight` for the first unit of each block.
    prior: Vec<f32>,
    /// Highest cosine to a unit of another block in `kept[..seen[u]]`, and
    /// where in `kept` it is (for merging).
    cross: Vec<f32>,
    nearest: Vec<u32>,
    /// Highest rescaled cosine to a unit of the same block in `kept[..seen[u]]`.
    sibling: Vec<f32>,
    seen: Vec<u32>,
    fate: Vec<Option<Fate>>,
    pub(crate) kept: Vec<usize>,
    kept_vectors: Vec<f32>,
    kept_blocks: Vec<u32>,
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
            background: Backgrounds::of(units, params.redundancy_floor),
            rel: kernels.dots(units.vectors(), query, units.dim()),
            prior: (0..units.len())
                .map(|u| {
                    let lead = u == 0 || units.blocks()[u] != units.blocks()[u - 1];
                    units.priors()[u] + if lead { params.lead_weight } else { 0.0 }
                })
                .collect(),
            cross: vec![0.0; units.len()],
            nearest: vec![u32::MAX; units.len()],
            sibling: vec![0.0; units.len()],
            seen: vec![0; units.len()],
            fate: vec![None; units.len()],
            kept: Vec::new(),
            kept_vectors: Vec::new(),
            kept_blocks: Vec::new(),
            kept_tokens: 0,
        }
    }

    fn red(&self, u: usize) -> f32 {
        self.background.across(self.cross[u]).max(self.sibling[u])
    }

    /// Relevance with the lead prior: what the coarse and fine stages rank by.
    pub(crate) fn relevance(&self, u: usize) -> f32 {
        self.rel[u] + self.prior[u]
    }

    fn mig(&self, u: usize) -> f32 {
        self.alpha * self.relevance(u) - self.beta * self.red(u)
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
        let blocks = self.units.blocks();
        for (from, run) in runs {
            let mut rows = Vec::with_capacity(run.len() * dim);
            let mut row_blocks = Vec::with_capacity(run.len());
            for &u in &run {
                rows.extend_from_slice(self.units.vector(u));
                row_blocks.push(blocks[u]);
            }
            let best = self.kernels.max_dots(
                &rows,
                &self.kept_vectors[from * dim..],
                dim,
                Some((&row_blocks, &self.kept_blocks[from..])),
            );
            for (&u, (d, j)) in run.iter().zip(best) {
                if j != u32::MAX {
                    self.note_cross(u, d, from as u32 + j);
                }
                // Kept units of its own block: few, compared here.
                for at in from..self.kept.len() {
                    if self.kept_blocks[at] == blocks[u] {
                        let k = self.kept[at];
                        self.note_sibling(u, dot(self.units.vector(u), self.units.vector(k)));
                    }
                }
                self.seen[u] = now;
            }
        }
    }

    /// Records that unit `u` has cosine `d` to `kept[at]`, of another block.
    fn note_cross(&mut self, u: usize, d: f32, at: u32) {
        if self.nearest[u] == u32::MAX || d > self.cross[u] {
            self.cross[u] = d.max(0.0);
            self.nearest[u] = at;
        }
    }

    /// Records that unit `u` has cosine `d` to a kept unit of its own block.
    fn note_sibling(&mut self, u: usize, d: f32) {
        self.sibling[u] = self.sibling[u].max(self.background.within(d));
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
                    tokens[u] as usize <= room && self.merge.is_none_or(|t| self.cross[u] < t)
                })
                .max_by(|&a, &b| self.mig(a).total_cmp(&self.mig(b)).then(b.cmp(&a)));
            let Some(b) = best else { break };
            self.fate[b] = Some(Fate::Kept);
            self.kept.push(b);
            self.kept_vectors.extend_from_slice(self.units.vector(b));
            self.kept_blocks.push(self.units.blocks()[b]);
            spent += tokens[b] as usize;
            open.retain(|&u| u != b);
            let at = self.kept.len() as u32 - 1;
            for &u in &open {
                if self.seen[u] == at {
                    let d = dot(self.units.vector(u), self.units.vector(b));
                    if self.units.blocks()[u] == self.units.blocks()[b] {
                        self.note_sibling(u, d);
                    } else {
                        self.note_cross(u, d, at);
                    }
                    self.seen[u] = at + 1;
                }
            }
        }
        self.kept_tokens += spent;
        spent
    }

    /// Folds every undecided unit at or above the merge threshold into the
    /// kept unit it is closest to; drops the rest.
    pub(crate) fn finish(mut self, groups: Vec<GroupOutcome>, target: usize) -> Compression {
        if let (Some(t), false) = (self.merge, self.kept.is_empty()) {
            let open: Vec<usize> = (0..self.units.len())
                .filter(|&u| self.fate[u].is_none())
                .collect();
            self.refresh(&open);
            for u in open {
                if self.nearest[u] != u32::MAX && self.cross[u] >= t {
                    let into = self.kept[self.nearest[u] as usize];
                    self.fate[u] = Some(Fate::MergedInto(into));
                }
            }
        }
        let units = (0..self.units.len())
            .map(|u| UnitOutcome {
                group: self.units.groups()[u],
                rel: self.rel[u],
                red: self.red(u),
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

/// Where redundancy starts, for units of one block and of two blocks.
///
/// Each floor lies `floor` of the way from the background (the mean cosine
/// of two such units in this input, whatever they say) to identity, so one
/// parameter serves inputs and models whose cosines sit at other levels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backgrounds {
    same_block: f32,
    other_blocks: f32,
}

/// Pairs sampled for the cross-block background.
const SAMPLE: usize = 512;

impl Backgrounds {
    /// Measured on `units`: every pair of neighbours in one block, and up to
    /// [`SAMPLE`] pairs half the input apart (deterministic, O(n)).
    pub(crate) fn of(units: &UnitSet, floor: f32) -> Backgrounds {
        let (n, blocks) = (units.len(), units.blocks());
        let mean = |pairs: &mut dyn Iterator<Item = (usize, usize)>| {
            let (mut sum, mut count) = (0.0f64, 0usize);
            for (a, b) in pairs {
                sum += f64::from(dot(units.vector(a), units.vector(b)));
                count += 1;
            }
            if count == 0 {
                0.0
            } else {
                ((sum / count as f64) as f32).clamp(0.0, 0.99)
            }
        };
        let same = mean(
            &mut (1..n)
                .filter(|&u| blocks[u] == blocks[u - 1])
                .map(|u| (u - 1, u)),
        );
        let step = (n / SAMPLE).max(1);
        let other = mean(
            &mut (0..n)
                .step_by(step)
                .map(|u| (u, (u + n / 2) % n.max(1)))
                .filter(|&(a, b)| blocks[a] != blocks[b]),
        );
        let at = |background: f32| background + floor * (1.0 - background);
        Backgrounds {
            same_block: at(same),
            other_blocks: at(other),
        }
    }

    fn rescale(cos: f32, floor: f32) -> f32 {
        ((cos - floor) / (1.0 - floor).max(1e-6)).max(0.0)
    }

    /// Redundancy of a cosine to a unit of the same block.
    fn within(&self, cos: f32) -> f32 {
        Self::rescale(cos, self.same_block)
    }

    /// Redundancy of a cosine to a unit of another block.
    pub(crate) fn across(&self, cos: f32) -> f32 {
        Self::rescale(cos, self.other_blocks)
    }
}
