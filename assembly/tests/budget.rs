//! The budget is a promise: for random queries, budgets from 16 to 8192 and
//! every shipped pipeline, the rendered bubble never has more tokens than
//! the budget in the request's tokenizer.

mod common;

use bubble_assembly::{assemble, pipelines, Context, Pipeline};
use bubble_index::bubble_ingest::TokenCounter;
use bubble_retrieval::Retriever;
use common::fixture;
use proptest::prelude::*;

/// Compression by rate and over the whole pool, besides the shipped pipelines.
const MORE: [(&str, &str); 2] = [
    (
        "compress-rate",
        r#"{"name": "compress-rate", "steps": [
      {"op": "retrieve", "depth": 50},
      {"op": "bubble", "budget_factor": 4},
      {"op": "compress", "rate": 0.3, "group": "section"},
      {"op": "render"}]}"#,
    ),
    (
        "compress-pool",
        r#"{"name": "compress-pool", "steps": [
      {"op": "retrieve", "depth": 50},
      {"op": "compress", "input": "candidates", "method": "mig_flat", "merge_threshold": null},
      {"op": "rank"},
      {"op": "render"}]}"#,
    ),
];

fn words() -> impl Strategy<Value = String> {
    let vocab = prop::sample::select(vec![
        "plan",
        "price",
        "business",
        "SLA",
        "credit",
        "uptime",
        "99.9%",
        "travel",
        "per",
        "diem",
        "password",
        "MFA",
        "region",
        "EU",
        "retention",
        "days",
        "incident",
        "SEV1",
        "holiday",
        "API",
        "rate",
        "limit",
        "how",
        "much",
        "what",
        "the",
        "is",
        "zebra",
        "quux",
        "日本",
        "€",
        "?",
    ]);
    prop::collection::vec(vocab, 1..12).prop_map(|w| w.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn rendered_bubble_never_exceeds_the_budget(
        query in words(),
        budget in 16usize..=8192,
        tokenizer in prop::sample::select(vec!["cl100k_base", "o200k_base"]),
    ) {
        let f = fixture();
        let counter = TokenCounter::by_name(tokenizer).unwrap();
        let ctx = Context { retriever: Retriever::new(&f.index, f.embedder.as_ref()), counter: &counter, ranker: None };
        for (name, json) in pipelines::ALL.iter().chain(&MORE) {
            let pipeline = Pipeline::from_json(json).unwrap();
            let (out, trace) = assemble(&ctx, &pipeline, &query, budget).unwrap();
            let counted = counter.count(&out.bubble.text);
            prop_assert_eq!(counted, out.bubble.tokens, "{}: reported tokens differ", name);
            prop_assert!(counted <= budget, "{}: {} tokens over a budget of {} for {:?}", name, counted, budget, query);
            prop_assert_eq!(trace.summary.selected, out.spans.len());
        }
    }
}

#[test]
fn small_budgets_still_give_the_best_span_when_it_fits() {
    let f = fixture();
    let counter = TokenCounter::default_counter();
    let ctx = Context {
        retriever: Retriever::new(&f.index, f.embedder.as_ref()),
        counter: &counter,
        ranker: None,
    };
    let pipeline = Pipeline::from_json(pipelines::DEFAULT).unwrap();
    let (out, _) = assemble(&ctx, &pipeline, "minimum password length", 150).unwrap();
    assert!(out.bubble.tokens <= 150);
    assert!(
        out.bubble.text.contains("14 characters"),
        "{}",
        out.bubble.text
    );
    let (out, _) = assemble(&ctx, &pipeline, "minimum password length", 3).unwrap();
    assert!(out.bubble.text.is_empty() && out.spans.is_empty());
}
