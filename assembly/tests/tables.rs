//! Tables as tables, duplicates folded, budgets in the caller's tokenizer:
//! the shipped corpus's two demo questions, and the gold queries counted in
//! a tokenizer the index was not built with.

mod common;

use bubble_assembly::{assemble, pipelines, BubbleOutput, Context, Pipeline, Trace};
use bubble_index::bubble_ingest::TokenCounter;
use bubble_retrieval::Retriever;
use common::{fixture, repo};

fn default_bubble(query: &str, budget: usize, counter: &TokenCounter) -> (BubbleOutput, Trace) {
    let f = fixture();
    let ctx = Context {
        retriever: Retriever::new(&f.index, f.embedder.as_ref()),
        counter,
        ranker: None,
    };
    let pipeline = Pipeline::from_json(pipelines::DEFAULT).unwrap();
    assemble(&ctx, &pipeline, query, budget).unwrap()
}

#[test]
fn the_business_question_holds_price_and_credit_once_each() {
    if fixture().embedder.is_none() {
        eprintln!("skipping: the demo bubble is measured with vectors");
        return;
    }
    let counter = TokenCounter::default_counter();
    let (out, trace) = default_bubble(
        "How much does the Business plan cost and what SLA credit applies below 99.0% uptime?",
        300,
        &counter,
    );
    let text = &out.bubble.text;
    // The Business price (USD 499 a month) and its credit below 99.0 % (25 %).
    assert_eq!(text.matches("499").count(), 1, "{text}");
    assert_eq!(text.matches("25%").count(), 1, "{text}");
    // The SLA row of the CSV and of the HTML page is one row, citing both.
    let folded: Vec<_> = trace
        .candidates
        .iter()
        .filter(|c| {
            c.decision
                .as_ref()
                .is_some_and(|d| d.reason.starts_with("duplicate_of:"))
        })
        .collect();
    assert!(
        folded
            .iter()
            .any(|c| c.source.ends_with("product/sla.html")),
        "{folded:?}"
    );
    let also_in: Vec<&str> = out
        .bubble
        .citations
        .iter()
        .flat_map(|c| c.also_in.iter().map(|a| a.source.as_str()))
        .collect();
    assert!(
        also_in.iter().any(|s| s.ends_with("product/sla.html")),
        "{also_in:?}"
    );
}

#[test]
fn the_per_diem_in_germany_is_the_eu_row_of_a_compact_table() {
    let counter = TokenCounter::default_counter();
    let (out, _) = default_bubble("What is the per diem in Germany?", 300, &counter);
    let text = &out.bubble.text;
    assert!(
        text.contains("| Other EU countries and the UK | €70 |"),
        "{text}"
    );
    // One header for the table's rows, not one `Key: value` line each.
    assert_eq!(
        text.matches("| Destination | Per diem |").count(),
        1,
        "{text}"
    );
    assert!(!text.contains("Destination: "), "{text}");
    // Citations stay per row: each row of the table has its own marker.
    let rows = text
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains('€'))
        .count();
    let cited_rows = out
        .spans
        .iter()
        .filter(|s| s.kind.as_str() == "row" && s.text.contains('€'))
        .count();
    assert_eq!(rows, cited_rows, "{text}");
}

/// What the bubble step counted its selection at, from its note.
fn counted(trace: &Trace) -> usize {
    let note = &trace
        .operators
        .iter()
        .find(|o| o.op == "bubble")
        .unwrap()
        .note;
    let (_, rest) = note.split_once(" tokens (").unwrap();
    rest.split(' ').next().unwrap().parse().unwrap()
}

/// Over the gold queries at three budgets, in `counter`: the selection's
/// count against the rendered text's, and spans dropped at render.
fn budget_errors(counter: &TokenCounter) -> (f64, usize) {
    let text = std::fs::read_to_string(repo().join("corpora/acme-queries.jsonl")).unwrap();
    let (mut error, mut rendered, mut dropped) = (0usize, 0usize, 0);
    for line in text.lines() {
        let q: serde_json::Value = serde_json::from_str(line).unwrap();
        let query = q["query"].as_str().unwrap();
        for budget in [150, 300, 800] {
            let (out, trace) = default_bubble(query, budget, counter);
            assert!(
                out.bubble.tokens <= budget,
                "{query}: {}",
                out.bubble.tokens
            );
            assert_eq!(counter.count(&out.bubble.text), out.bubble.tokens);
            let drops = trace
                .candidates
                .iter()
                .filter(|c| c.decision.as_ref().is_some_and(|d| d.step == "render"))
                .count();
            dropped += drops;
            if drops == 0 {
                error += counted(&trace).abs_diff(out.bubble.tokens);
                rendered += out.bubble.tokens;
            }
        }
    }
    (error as f64 / rendered.max(1) as f64, dropped)
}

#[test]
fn budgets_are_counted_in_the_request_tokenizer() {
    // The index counts in cl100k_base; these requests count in o200k_base,
    // and in the embedding model's WordPiece when it is there (which counts
    // a fifth more on this corpus).
    let mut counters = vec![TokenCounter::by_name("o200k_base").unwrap()];
    let wordpiece = repo().join("models/all-MiniLM-L6-v2/tokenizer.json");
    if wordpiece.exists() {
        counters.push(TokenCounter::by_name(wordpiece.to_str().unwrap()).unwrap());
    }
    for counter in &counters {
        let (error, dropped) = budget_errors(counter);
        // Selection counted what the rendering costs, line by line: it is
        // off only by BPE merges across lines and the blank lines that
        // close a table, and the final count rarely drops a span.
        assert!(error < 0.03, "{}: counted {error:.3} off", counter.name());
        assert!(
            dropped <= 3,
            "{}: {dropped} spans dropped at render",
            counter.name()
        );
    }
}
