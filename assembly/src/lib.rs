//! Assembly: from retrieved candidates to a context bubble.
//!
//! This crate will own the operator pipeline (an `Operator` trait over a
//! shared query state; pipelines as data with linear, conditional,
//! branching and loop flows), the bubble operator (the paper's gates and
//! Bubble's default mode with coverage gain, embedding redundancy and
//! structural expansion), the rank operator, rendering with citations, and
//! the audit trace. It reads indexes through `bubble-retrieval` and never
//! writes them; it knows nothing of HTTP.
//!
//! Empty for now: the foundation (ingest, index, retrieval) comes first.
#![deny(missing_docs)]
