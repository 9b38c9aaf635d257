//! Budget gates: the global budget, per-section caps and the slack pool.

use super::{BubbleMode, BubbleParams};
use crate::state::QueryState;
use std::collections::{HashMap, HashSet};

/// Budget bookkeeping: the global budget, per-section caps and the slack pool.
pub(super) struct Gates {
    budget: usize,
    used: usize,
    cap: usize,
    pub(super) used_by_section: HashMap<String, usize>,
    /// Undecided candidates left in each section: a section with none left
    /// gives its unspent cap to the slack pool.
    remaining: HashMap<String, usize>,
    pub(super) slack: usize,
    released: HashSet<String>,
    /// Whether a section's first span may exceed the cap (default mode: a
    /// cap should stop one section hogging the bubble, not keep out the
    /// single best span because it is long).
    first_span_free: bool,
}

impl Gates {
    pub(super) fn new(p: &BubbleParams, state: &QueryState) -> Gates {
        let mut remaining: HashMap<String, usize> = HashMap::new();
        for c in &state.candidates {
            *remaining.entry(c.section_key()).or_default() += 1;
        }
        let cap = (p.section_share * state.budget as f32).floor() as usize;
        // Budget no section can claim starts in the pool (Σρ_s < 1).
        let claimable = cap.saturating_mul(remaining.len());
        Gates {
            budget: state.budget,
            used: 0,
            cap,
            used_by_section: HashMap::new(),
            remaining,
            slack: state.budget.saturating_sub(claimable),
            released: HashSet::new(),
            first_span_free: p.mode != BubbleMode::Paper,
        }
    }

    /// Checks the budget gates for a span costing `cost` in `section`.
    pub(super) fn check(&self, section: &str, cost: usize) -> Result<(), &'static str> {
        if self.used + cost > self.budget {
            return Err("budget_exceeded");
        }
        let in_section = self.used_by_section.get(section).copied().unwrap_or(0);
        if in_section == 0 && self.first_span_free {
            return Ok(());
        }
        let over = (in_section + cost).saturating_sub(self.cap);
        if over > self.slack {
            return Err("section_budget");
        }
        Ok(())
    }

    /// Tokens left in the global budget.
    pub(super) fn room(&self) -> usize {
        self.budget.saturating_sub(self.used)
    }

    pub(super) fn admit(&mut self, section: &str, cost: usize) {
        let in_section = self.used_by_section.entry(section.to_string()).or_default();
        let over = (*in_section + cost).saturating_sub(self.cap.max(*in_section));
        self.slack -= over.min(self.slack);
        *in_section += cost;
        self.used += cost;
    }

    /// Marks one candidate of `section` decided; releases the section's
    /// unspent cap to the pool when it has none left.
    pub(super) fn decided(&mut self, section: &str) {
        if let Some(n) = self.remaining.get_mut(section) {
            *n = n.saturating_sub(1);
            if *n == 0 && self.released.insert(section.to_string()) {
                let used = self.used_by_section.get(section).copied().unwrap_or(0);
                self.slack += self.cap.saturating_sub(used);
            }
        }
    }
}
