use serde::{Deserialize, Serialize};

/// What became of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// In the output.
    Kept,
    /// Left out.
    Dropped,
    /// Left out as a near duplicate of this kept unit, which carries its citation.
    MergedInto(usize),
}

/// One unit's scores and fate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitOutcome {
    /// Its group.
    pub group: u32,
    /// Cosine to the query.
    pub rel: f32,
    /// Highest cosine to a kept unit when it was last considered (for a
    /// merged unit: to the unit it folded into).
    pub red: f32,
    /// α·rel − β·red.
    pub mig: f32,
    /// What became of it.
    pub fate: Fate,
}

/// One group's scores and allotment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupOutcome {
    /// Its best unit's relevance.
    pub rel: f32,
    /// Highest cosine of its representative to another group's.
    pub red: f32,
    /// α·rel − β·red.
    pub mig: f32,
    /// Its representative (best unit), an index into the units; `None` for
    /// a group number no unit has.
    pub representative: Option<usize>,
    /// Tokens allotted by the coarse stage.
    pub allotment: usize,
    /// Tokens it kept.
    pub kept: usize,
}

/// The result of a compression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compression {
    /// One per input unit, in input order.
    pub units: Vec<UnitOutcome>,
    /// One per group number below [`crate::UnitSet::group_count`] (a
    /// number no unit has gets allotment 0); empty for methods without groups.
    pub groups: Vec<GroupOutcome>,
    /// The token target.
    pub target: usize,
    /// Tokens of the kept units (never above `target`).
    pub kept_tokens: usize,
}

impl Compression {
    /// Indices of the kept units, in input order.
    pub fn kept(&self) -> Vec<usize> {
        (0..self.units.len())
            .filter(|&u| self.units[u].fate == Fate::Kept)
            .collect()
    }
}
