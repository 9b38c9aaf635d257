//! The budget is a promise: for random queries, budgets from 16 to 8192 and
//! every shipped pipeline, the rendered bubble never has more tokens than
//! the budget in the request's tokenizer.

use bubble_assembly::{assemble, pipelines, Context, Pipeline};
use bubble_index::bubble_ingest::TokenCounter;
use bubble_index::{build, find_models_dir, BuildOptions, Embedder, Index};
use bubble_retrieval::Retriever;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

struct Fixture {
    index: Index,
    embedder: Option<Embedder>,
    _dir: tempfile::TempDir,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One index of the shipped corpus for every case (with vectors when the model is there).
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = find_models_dir(None).unwrap_or_else(|| repo().join("models"));
        let embedder = match Embedder::load(&dir, 2) {
            Ok(e) => Some(e),
            Err(e) => {
                assert!(
                    std::env::var("BUBBLE_REQUIRE_MODELS").as_deref() != Ok("1"),
                    "model required: {e}"
                );
                None
            }
        };
        let tmp = tempfile::tempdir().unwrap();
        build(
            tmp.path(),
            &[repo().join("corpora/acme")],
            &BuildOptions::default(),
            embedder.as_ref(),
            &mut |_| {},
        )
        .unwrap();
        Fixture {
            index: Index::open(tmp.path()).unwrap(),
            embedder,
            _dir: tmp,
        }
    })
}

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
        let ctx = Context { retriever: Retriever::new(&f.index, f.embedder.as_ref()), counter: &counter };
        for (name, json) in pipelines::ALL {
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
