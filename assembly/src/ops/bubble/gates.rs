//! Budget gates: the global budget, per-section caps and the slack pool.
//!
//! Sections are numbered once per run: the gates are consulted for every
//! candidate, and hashing a heading path each time cost more than the rest
//! of a rejection.

use super::{BubbleMode, BubbleParams};
use crate::state::QueryState;
use std::collections::HashMap;

/// Budget bookkeeping: the global budget, per-section caps and the slack pool.
pub(super) struct Gates {
    budget: usize,
    used: usize,
    cap: usize,
    /// Section number of each candidate, by candidate index.
    section_of: Vec<usize>,
    /// Section numbers by section key, for candidates added during the run.
    numbers: HashMap<String, usize>,
    /// Per section: tokens admitted.
    used_by_section: Vec<usize>,
    /// Per section: undecided candidates left; a section with none left
    /// gives its unspent cap to the slack pool.
    remaining: Vec<usize>,
    released: Vec<bool>,
    /// Whether the sections of the initial candidates have been counted.
    counted: bool,
    pub(super) slack: usize,
    /// Whether a section's first span may exceed the cap (default mode: a
    /// cap should stop one section hogging the bubble, not keep out the
    /// single best span because it is long).
    first_span_free: bool,
}

impl Gates {
    pub(super) fn new(p: &BubbleParams, state: &QueryState) -> Gates {
        let cap = (p.section_share * state.budget as f32).floor() as usize;
        let mut gates = Gates {
            budget: state.budget,
            used: 0,
            cap,
            section_of: Vec::with_capacity(state.candidates.len()),
            numbers: HashMap::new(),
            used_by_section: Vec::new(),
            remaining: Vec::new(),
            released: Vec::new(),
            counted: false,
            slack: 0,
            first_span_free: p.mode != BubbleMode::Paper,
        };
        for i in 0..state.candidates.len() {
            let s = gates.section(state, i);
            gates.remaining[s] += 1;
        }
        gates.counted = true;
        // Budget no section can claim starts in the pool (Σρ_s < 1).
        let claimable = cap.saturating_mul(gates.remaining.len());
        gates.slack = state.budget.saturating_sub(claimable);
        gates
    }

    /// The section number of candidate `i`, numbering the candidates added
    /// since the last call.
    pub(super) fn section(&mut self, state: &QueryState, i: usize) -> usize {
        while self.section_of.len() <= i {
            let key = state.candidates[self.section_of.len()].section_key();
            let next = self.numbers.len();
            let s = *self.numbers.entry(key).or_insert(next);
            if s == next {
                self.used_by_section.push(0);
                self.remaining.push(0);
                // A section first seen during the pass (a header brought
                // along) had no share counted for it, so none to release.
                self.released.push(self.counted);
            }
            self.section_of.push(s);
        }
        self.section_of[i]
    }

    /// Whether a span of initial candidate `i`'s section is admitted.
    pub(super) fn section_reached(&self, i: usize) -> bool {
        self.used_by_section[self.section_of[i]] > 0
    }

    /// Sections with at least one admitted span.
    pub(super) fn sections_used(&self) -> usize {
        self.used_by_section.iter().filter(|&&u| u > 0).count()
    }

    /// Checks the budget gates for a span costing `cost` in `section`.
    pub(super) fn check(&self, section: usize, cost: usize) -> Result<(), &'static str> {
        if self.used + cost > self.budget {
            return Err("budget_exceeded");
        }
        let in_section = self.used_by_section[section];
        if in_section == 0 && self.first_span_free {
            return Ok(());
        }
        let over = (in_section + cost).saturating_sub(self.cap);
        if over > self.slack {
            return Err("section_budget");
        }
        Ok(())
    }

    /// Tokens admitted so far, as counted for the rendering.
    pub(super) fn used(&self) -> usize {
        self.used
    }

    /// Tokens left in the global budget.
    pub(super) fn room(&self) -> usize {
        self.budget.saturating_sub(self.used)
    }

    pub(super) fn admit(&mut self, section: usize, cost: usize) {
        let in_section = &mut self.used_by_section[section];
        let over = (*in_section + cost).saturating_sub(self.cap.max(*in_section));
        self.slack -= over.min(self.slack);
        *in_section += cost;
        self.used += cost;
    }

    /// Marks one candidate of `section` decided; releases the section's
    /// unspent cap to the pool when it has none left.
    pub(super) fn decided(&mut self, section: usize) {
        let n = &mut self.remaining[section];
        *n = n.saturating_sub(1);
        if *n == 0 && !self.released[section] {
            self.released[section] = true;
            self.slack += self.cap.saturating_sub(self.used_by_section[section]);
        }
    }
}
