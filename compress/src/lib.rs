//! Compression: COMI-style coarse-to-fine selection by marginal information
//! gain (relevance to the query minus redundancy with the rest).
//!
//! This crate will own compression units (sentences, clauses), groups
//! (spans, sections), MIG scoring, budget allocation across groups, and
//! merging of near-duplicate units that keeps every citation; CPU kernels by
//! default, GPU ones behind a cargo feature. It works on vectors the index
//! already holds, so a query never re-embeds indexed text.
//!
//! Empty for now: the foundation (ingest, index, retrieval) comes first.
#![deny(missing_docs)]
