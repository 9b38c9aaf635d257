//! The stores side by side: the same SciFact questions searched on the
//! embedded index and on a PostgreSQL store, each search on a snapshot of
//! its own (as a server takes one per request).

use crate::metrics::percentile;
use crate::source::Source;
use crate::EvalError;
use bubble_index::Embedder;
use bubble_retrieval::{Retriever, SearchRequest};
use serde::Serialize;

/// One store's search latencies.
#[derive(Debug, Clone, Serialize)]
pub struct SearchLatency {
    /// Searches run.
    pub searches: usize,
    /// Median, ms (the query's embedding and opening the snapshot included).
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
}

/// Runs a hybrid search (top 10 of 100 per channel) for every query in
/// turn, `rounds` times, on `source`.
pub fn search_latency(
    source: &Source,
    queries: &[String],
    embedder: Option<&Embedder>,
    rounds: usize,
) -> Result<SearchLatency, EvalError> {
    let mut ms = Vec::with_capacity(queries.len() * rounds);
    for _ in 0..rounds {
        for q in queries {
            let started = std::time::Instant::now();
            source.with(|corpus| {
                Retriever::new(corpus, embedder).search(&SearchRequest::new(q.clone()))?;
                Ok(())
            })?;
            ms.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    Ok(SearchLatency {
        searches: ms.len(),
        p50_ms: percentile(&ms, 50.0),
        p99_ms: percentile(&ms, 99.0),
    })
}
