//! Query-time access to an index: BM25, dense and hybrid retrieval with
//! fusion, filters by path glob and span kind, and structural neighbours.
//!
//! Every hit keeps each channel's rank and raw score next to the fused
//! score, because the assembly stage's trace must be able to say why a
//! candidate ranked where it did. This crate reads an [`bubble_index::Index`]
//! and never writes one; it knows nothing of budgets or rendering.
#![deny(missing_docs)]

mod error;
mod filter;
mod fusion;
pub mod limits;
pub mod neighbours;
mod search;

pub use error::RetrievalError;
pub use filter::SpanFilter;
pub use fusion::Fusion;
pub use search::{ChannelScore, Hit, Mode, Retriever, SearchRequest, SearchResponse};
