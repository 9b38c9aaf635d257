//! Compression by marginal information gain (COMI, coarse to fine), over
//! vectors the index already holds.
//!
//! This crate owns the method: given units (sentences and clauses, each
//! with a stored vector, a token count and a group — its span or section)
//! and a query vector, it decides which units to keep under a token target.
//! Coarse: each group's MIG (its best unit's relevance minus its
//! representative's similarity to the other groups' representatives)
//! spreads the target over the groups by a softmax, rounded by largest
//! remainder so the allotments sum to the target exactly. Fine: inside a
//! group, units are kept greedily by their own MIG (relevance minus the
//! highest similarity to anything kept so far, anywhere); allotment a group
//! leaves unspent flows on to the next. Merge: a unit too similar to a kept
//! one is folded into it, so the kept unit carries both citations.
//!
//! It knows nothing of pipelines, spans, rendering or HTTP: callers hand it
//! plain arrays and read back a decision per unit. Why arrays: the same
//! method then compresses a bubble, a whole document or a candidate pool,
//! and the similarity math is a kernel that can run on a CPU or a GPU
//! ([`Kernels`]; the `cuda` feature adds a GPU one).
#![deny(missing_docs)]

mod allocate;
mod baselines;
mod error;
mod greedy;
pub mod kernels;
mod mig;
mod outcome;
mod params;
mod units;

pub use allocate::allocate;
pub use error::CompressError;
pub use kernels::{Cpu, Kernels};
pub use outcome::{Compression, Fate, GroupOutcome, UnitOutcome};
pub use params::{Method, Params, Target};
pub use units::UnitSet;

/// Compresses `units` for the query vector `query` with the CPU kernels.
pub fn compress(
    units: &UnitSet,
    query: &[f32],
    params: &Params,
) -> Result<Compression, CompressError> {
    compress_with(&Cpu, units, query, params)
}

/// Compresses `units` for `query` with the given kernels.
pub fn compress_with(
    kernels: &dyn Kernels,
    units: &UnitSet,
    query: &[f32],
    params: &Params,
) -> Result<Compression, CompressError> {
    params.validate()?;
    if query.len() != units.dim() {
        return Err(CompressError::Dimension {
            expected: units.dim(),
            found: query.len(),
        });
    }
    let target = params.target.tokens(units.total_tokens());
    Ok(match params.method {
        Method::Mig => mig::coarse_to_fine(kernels, units, query, params, target),
        Method::MigFlat => mig::flat(kernels, units, query, params, target),
        Method::QuerySimilarity => baselines::by_similarity(kernels, units, query, target),
        Method::Lead => baselines::lead(kernels, units, query, target),
        Method::Random => baselines::random(kernels, units, query, target, params.seed),
    })
}
