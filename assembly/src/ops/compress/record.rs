//! What `compress` tells the trace: per group its scores and allotment,
//! per unit its scores and fate.

use bubble_compress::Method;
use serde::{Deserialize, Serialize};

/// One group of a compression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRecord {
    /// What the group is: a span id, or a section (`doc#heading path`).
    pub group: String,
    /// Its best unit's cosine to the query.
    pub rel: f32,
    /// Highest cosine of its representative to another group's.
    pub red: f32,
    /// α·rel − β·red.
    pub mig: f32,
    /// Tokens the coarse stage allotted it.
    pub allotment: usize,
    /// Tokens of its kept units.
    pub kept: usize,
}

/// One unit of a compression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitRecord {
    /// The unit's span id.
    pub span_id: String,
    /// Index of its group in [`CompressionTrace::groups`].
    pub group: usize,
    /// Tokens of its text.
    pub tokens: u32,
    /// Cosine to the query.
    pub rel: f32,
    /// Highest cosine to a kept unit when it was decided.
    pub red: f32,
    /// α·rel − β·red.
    pub mig: f32,
    /// `kept`, `dropped` or `merged_into:<span id>`.
    pub decision: String,
}

/// The trace of the last `compress` of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompressionTrace {
    /// The selection method.
    pub method: Method,
    /// Tokens of the input units.
    pub input_tokens: usize,
    /// The token target of the final round.
    pub target: usize,
    /// Tokens of the kept units.
    pub kept_tokens: usize,
    /// Compression rounds run to fit the rendered budget.
    pub rounds: usize,
    /// Groups, in input order (empty for methods without groups).
    pub groups: Vec<GroupRecord>,
    /// Units, in input order.
    pub units: Vec<UnitRecord>,
}
