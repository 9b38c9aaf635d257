//! Median latency of embedding one short query, by thread count:
//! `cargo run --release -p bubble-index --example query_latency`.

use bubble_index::{find_models_dir, Embedder};
use std::time::Instant;

fn main() {
    let dir = find_models_dir(None).expect("models (run scripts/setup)");
    let queries = [
        "0-dimensional biomaterials show inductive properties.",
        "How much does the Business plan cost?",
        "daily meal allowance when travelling abroad",
    ];
    for threads in [1, 2] {
        let e = Embedder::load(&dir, threads).expect("model");
        let mut ms: Vec<f64> = Vec::new();
        for i in 0..200 {
            let t = Instant::now();
            e.embed_query(queries[i % queries.len()]).expect("embed");
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        ms.sort_by(f64::total_cmp);
        println!(
            "threads {threads}: p50 {:.2} ms, p99 {:.2} ms",
            ms[100], ms[198]
        );
    }
}
