//! The RankGen-style ranker: a query is scored against a span as a prefix
//! against a continuation, by the dot product of two learned heads over the
//! vectors the index already holds (the query's vector from the one
//! encoding a query costs, the span's stored vector: indexed text is never
//! encoded again).
//!
//! This crate owns the heads (two square matrices, the prefix head and the
//! continuation head, initialised to the identity), their file, the scoring
//! (folded into one projection of the query, so a query costs one
//! matrix-vector product and each candidate one dot product) and their
//! training: InfoNCE over in-batch negatives, in-document negatives (other
//! spans of the gold document, RankGen's key negative) and retrieval hard
//! negatives, seeded and deterministic. It knows nothing of indexes or
//! pipelines: callers hand it plain vectors.
#![deny(missing_docs)]

mod blend;
mod error;
mod heads;
mod rng;
mod train;

pub use blend::blend;
pub use error::RankError;
pub use heads::{Heads, Ranker};
pub use rng::SplitMix64;
pub use train::{train, Example, TrainOptions, TrainReport};
