//! `cargo bench -p bubble-rank`: what the ranker adds to a query, beyond
//! the query's embedding: one projection of the query vector and one dot
//! product per candidate (the default reranks the hybrid top 100), with
//! MiniLM-sized (384) vectors drawn deterministically and the shipped
//! heads' shape (the projection costs the same for any heads). Prints the minimum, median and maximum of repeated runs.

use bubble_rank::{blend, Heads, Ranker};
use std::time::Instant;

const DIM: usize = 384;
const CANDIDATES: usize = 100;

fn main() {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    // The projection is a full matrix-vector product whatever the heads.
    let ranker = Heads::identity(DIM).ranker();
    let query: Vec<f32> = (0..DIM).map(|_| next()).collect();
    let spans: Vec<Vec<f32>> = (0..CANDIDATES)
        .map(|_| (0..DIM).map(|_| next()).collect())
        .collect();
    let bm25: Vec<Option<f32>> = (0..CANDIDATES).map(|i| Some(i as f32)).collect();
    let mut ms: Vec<f64> = (0..2000)
        .map(|_| {
            let t = Instant::now();
            let prefix = ranker.prefix(&query).expect("dimension");
            let scores: Vec<Option<f32>> = spans
                .iter()
                .map(|s| Some(Ranker::score(&prefix, s)))
                .collect();
            std::hint::black_box(blend(&bm25, &scores, 0.5));
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    println!(
        "rerank of {CANDIDATES} candidates (dim {DIM}): min {:.4} ms, median {:.4} ms, max {:.4} ms",
        ms[0],
        ms[ms.len() / 2],
        ms[ms.len() - 1]
    );
}
