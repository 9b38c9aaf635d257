//! Retrieval quality on the shipped corpus's gold queries, per mode.

use bubble_index::{build, find_models_dir, BuildOptions, Embedder, Index};
use bubble_retrieval::{Mode, Retriever, SearchRequest};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Gold {
    query: String,
    relevant: Vec<Relevant>,
}

#[derive(Deserialize)]
struct Relevant {
    path: String,
    contains: String,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn embedder() -> Option<Embedder> {
    let dir = find_models_dir(None).unwrap_or_else(|| repo().join("models"));
    match Embedder::load(&dir, 2) {
        Ok(e) => Some(e),
        Err(e) => {
            assert!(
                std::env::var("BUBBLE_REQUIRE_MODELS").as_deref() != Ok("1"),
                "model required: {e}"
            );
            eprintln!("dense modes skipped: {e}");
            None
        }
    }
}

/// Fraction of (query, relevant span) pairs found in the top `k`.
fn recall(index: &Index, retriever: &Retriever<'_>, gold: &[Gold], mode: Mode, k: usize) -> f64 {
    let (mut found, mut total) = (0, 0);
    for g in gold {
        let mut req = SearchRequest::new(g.query.clone());
        req.mode = mode;
        req.k = k;
        let resp = retriever.search(&req).unwrap();
        assert_eq!(resp.mode, mode, "{:?}", resp.notices);
        for r in &g.relevant {
            total += 1;
            let hit = resp
                .hits
                .iter()
                .any(|h| h.source.ends_with(&r.path) && h.text.contains(&r.contains));
            found += usize::from(hit);
        }
    }
    let _ = index;
    found as f64 / total as f64
}

#[test]
fn gold_queries_find_their_spans() {
    let gold: Vec<Gold> = std::fs::read_to_string(repo().join("corpora/acme-queries.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(gold.len() >= 25);
    let embedder = embedder();
    let idx = tempfile::tempdir().unwrap();
    build(
        idx.path(),
        &[repo().join("corpora/acme")],
        &BuildOptions::default(),
        embedder.as_ref(),
        &mut |_| {},
    )
    .unwrap();
    let index = Index::open(idx.path()).unwrap();
    let retriever = Retriever::new(&index, embedder.as_ref());
    let bm25 = recall(&index, &retriever, &gold, Mode::Bm25, 10);
    eprintln!("recall@10 bm25 {bm25:.3}");
    assert!(bm25 >= 0.75, "bm25 recall@10 {bm25:.3}");
    if embedder.is_some() {
        let dense = recall(&index, &retriever, &gold, Mode::Dense, 10);
        let hybrid = recall(&index, &retriever, &gold, Mode::Hybrid, 10);
        eprintln!("recall@10 dense {dense:.3} hybrid {hybrid:.3}");
        assert!(dense >= 0.85, "dense recall@10 {dense:.3}");
        assert!(
            hybrid >= 0.85 && hybrid >= bm25,
            "hybrid recall@10 {hybrid:.3} (bm25 {bm25:.3})"
        );
    }
}
