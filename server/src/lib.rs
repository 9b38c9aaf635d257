//! The REST API (axum) over indexing, search and context assembly.
//!
//! This crate will own HTTP only: typed request and response bodies, one
//! JSON error shape, explicit shared state, and running the embedding model
//! off the async runtime on a capped thread pool. All behaviour lives in
//! the crates below it.
//!
//! Empty for now: the foundation (ingest, index, retrieval) comes first.
#![deny(missing_docs)]
