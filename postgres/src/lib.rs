//! Bubble on PostgreSQL + pgvector: one shared corpus for many stateless
//! Bubble processes.
//!
//! This crate owns the second implementation of the storage seam
//! ([`bubble_index::Corpus`]): the same documents, spans, BM25 scores and
//! vectors as the embedded index, held in tables a database replicates,
//! backs up and (on Citus) shards. A [`Reader`] is one consistent snapshot
//! (a read-only repeatable-read transaction), like an opened generation of
//! the embedded index; a [`Writer`] parses and embeds through the index
//! crate's own path ([`bubble_index::prepare`]) and commits each batch in
//! one transaction, so an acknowledged write is a committed one.
//!
//! Why BM25 in SQL: PostgreSQL ranks full-text matches with `ts_rank_cd`,
//! which does not weigh terms by their rarity; the store keeps the terms
//! the embedded index's analyser produces (a `tsvector` per span, found
//! through a GIN index), their document frequencies and the spans'
//! lengths, and scores with the embedded index's BM25 (`bm25.rs`).
//!
//! The calls are synchronous, as the pipeline is: each store runs its own
//! small tokio runtime for the driver and a pool of connections; call it
//! from a blocking thread, never from inside an async task.
#![deny(missing_docs)]

mod bm25;
mod reader;
mod rows;
mod schema;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod writer;

pub use reader::Reader;
pub use schema::{Settings, SCHEMA_VERSION};
pub use store::Store;
pub use writer::{Commit, Writer, WriterOptions};

pub(crate) use store::Failure;
