use crate::CompressError;
use serde::{Deserialize, Serialize};

/// How much to keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// This share (0 < rate ≤ 1) of the input's tokens, rounded down.
    Rate(f32),
    /// At most this many tokens.
    Tokens(usize),
}

impl Target {
    /// The token target for an input of `input` tokens (never above it).
    pub fn tokens(self, input: usize) -> usize {
        match self {
            Target::Rate(r) => ((input as f64) * f64::from(r)).floor() as usize,
            Target::Tokens(t) => t.min(input),
        }
    }
}

/// Which selection runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Coarse to fine: allotments per group by softmax over group MIG, then
    /// MIG inside each group, then merging.
    #[default]
    Mig,
    /// MIG over all units as one group (no coarse stage), then merging.
    MigFlat,
    /// Units by cosine to the query alone (β = 0, no groups, no merging).
    QuerySimilarity,
    /// The first units in input order.
    Lead,
    /// Units in a seeded random order.
    Random,
}

/// Parameters of a compression.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Which selection.
    pub method: Method,
    /// How much to keep.
    pub target: Target,
    /// Weight of relevance (α).
    pub alpha: f32,
    /// Weight of redundancy (β).
    pub beta: f32,
    /// Softmax temperature of the coarse allocation: low puts the target
    /// on the best groups, high spreads it evenly.
    pub temperature: f32,
    /// Added to the relevance of each block's first unit, which names the
    /// block's subject: a later sentence shown without it often cannot be
    /// read ("He was born in…").
    pub lead_weight: f32,
    /// Every group keeps its representative (best unit) first, while the
    /// target holds them: for input chosen span by span (a bubble), which
    /// compression should trim, not overturn.
    pub every_group: bool,
    /// Where redundancy starts, as a share of the way from the input's
    /// background similarity (the mean cosine of two of its units) to
    /// identity: 0 counts every similarity above the background, 0.75 only
    /// near repeats.
    pub redundancy_floor: f32,
    /// Cosine at or above which a unit folds into a kept one; `None`: no merging.
    pub merge_threshold: Option<f32>,
    /// Seed of [`Method::Random`].
    pub seed: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            method: Method::Mig,
            target: Target::Rate(0.5),
            alpha: 1.0,
            beta: 1.0,
            temperature: 0.05,
            lead_weight: 0.0,
            every_group: false,
            redundancy_floor: 0.75,
            merge_threshold: Some(0.9),
            seed: 0,
        }
    }
}

impl Params {
    /// Checks every parameter's range.
    pub fn validate(&self) -> Result<(), CompressError> {
        let bad = |name, detail: &str| {
            Err(CompressError::Param {
                name,
                detail: detail.to_string(),
            })
        };
        if let Target::Rate(r) = self.target {
            if !(r > 0.0 && r <= 1.0) {
                return bad("rate", "must be in (0, 1]");
            }
        }
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return bad("alpha", "must be a finite number ≥ 0");
        }
        if !(self.beta.is_finite() && self.beta >= 0.0) {
            return bad("beta", "must be a finite number ≥ 0");
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return bad("temperature", "must be a finite number > 0");
        }
        if !(self.lead_weight.is_finite() && self.lead_weight >= 0.0) {
            return bad("lead_weight", "must be a finite number ≥ 0");
        }
        if !(0.0..1.0).contains(&self.redundancy_floor) {
            return bad("redundancy_floor", "must be in [0, 1)");
        }
        if let Some(t) = self.merge_threshold {
            if !(t > 0.0 && t <= 1.0) {
                return bad("merge_threshold", "must be in (0, 1]");
            }
        }
        Ok(())
    }
}
