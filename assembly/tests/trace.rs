//! The audit trace against its published JSON Schema (`docs/trace.schema.json`),
//! its determinism, and the counts it must agree with.
//!
//! Every shipped pipeline runs on the Acme corpus for a few gold queries and
//! budgets, over a BM25-only index and (when the embedding model is present)
//! a hybrid one; every trace must validate. `BUBBLE_REQUIRE_MODELS=1` makes a
//! missing model a failure instead of a skipped hybrid half.

use bubble_assembly::{assemble, pipelines, BubbleOutput, Context, Pipeline, Trace};
use bubble_index::bubble_ingest::TokenCounter;
use bubble_index::{build, find_models_dir, BuildOptions, Embedder, Index};
use bubble_retrieval::Retriever;
use jsonschema::Validator;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Gold queries used here: single facts, table lookups, two-part questions.
const QUERY_IDS: [&str; 6] = ["q02", "q05", "q11", "q20", "q21", "q26"];
const BUDGETS: [usize; 3] = [64, 300, 1000];

/// Pipelines that are not shipped but use every flow and operator form, so
/// the schema's step definitions meet real traces too (`sentences` is the
/// units and mmr path, which the `every-form` branch may not choose). `no-bubble` leaves
/// every candidate undecided (a null decision, counted as `undecided`).
const EXTRA_PIPELINES: [(&str, &str); 3] = [
    (
        "every-form",
        r#"{"name": "every-form", "steps": [
          {"op": "retrieve", "mode": "bm25", "depth": 40, "ef": 64, "kinds": ["paragraph", "row"], "paths": ["**/*"]},
          {"op": "retrieve", "depth": 60, "facets": true},
          {"op": "fuse", "method": "rrf", "k": 60},
          {"op": "fuse", "method": "weighted", "dense_weight": 0.5},
          {"op": "fuse"},
          {"if": {"query_has_number": true}, "then": [{"op": "expand", "top": 5, "siblings": false}], "else": [{"op": "expand"}]},
          {"if": {"query_terms_at_least": 2}, "then": [{"op": "expand", "header": false}]},
          {"branch": [
             [{"op": "bubble", "mode": "paper", "delta": 0.6, "section_share": 0.4, "theta": 80,
               "section_boosts": {"pricing": 0.5}, "keyword_boosts": {"sla": 0.25}}],
             [{"op": "bubble", "kind_boosts": {"row": 0.2}, "theta": null, "max_per_doc": 3,
               "coverage_weight": 0.7, "min_relevance": 0.1, "max_similarity": 0.8, "redundancy_weight": 0.3,
               "link_weight": 0.3, "section_weight": 0.2, "facet_weight": 1.0}],
             [{"op": "bubble", "mode": "top_k"}],
             [{"op": "units", "min_tokens": 30, "base": 0.5, "lead_bonus": 0.2}, {"op": "bubble", "mode": "mmr", "lambda": 0.7}]],
           "choose": "coverage"},
          {"if": {"coverage_below": 0.99}, "then": [
             {"loop": [{"op": "retrieve", "query": "expanded", "depth": 30}, {"op": "bubble"}], "max": 3}]},
          {"branch": [[{"op": "rank"}], [{"op": "render"}]], "choose": "rank"},
          {"op": "rank"},
          {"op": "render"}]}"#,
    ),
    (
        "sentences",
        r#"{"name": "sentences", "steps": [
          {"op": "retrieve", "depth": 50}, {"op": "units"}, {"op": "bubble", "mode": "mmr"}, {"op": "rank"}, {"op": "render"}]}"#,
    ),
    (
        "no-bubble",
        r#"{"name": "no-bubble", "steps": [{"op": "retrieve", "depth": 20}, {"op": "render"}]}"#,
    ),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = repo().join("docs/trace.schema.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
    })
}

fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::draft202012::new(schema())
            .unwrap_or_else(|e| panic!("the trace schema does not compile: {e}"))
    })
}

/// Every validation error of `instance`, one per line with its location; empty when valid.
fn schema_errors(instance: &Value) -> Vec<String> {
    validator()
        .iter_errors(instance)
        .map(|e| {
            format!(
                "at {:?} (schema {:?}): {e}",
                e.instance_path().to_string(),
                e.schema_path().to_string()
            )
        })
        .collect()
}

/// The indexes the traces come from, built once for all tests.
struct Setup {
    bm25: Index,
    hybrid: Option<Index>,
    embedder: Option<Embedder>,
    _dirs: Vec<tempfile::TempDir>,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let embedder = {
            let dir = find_models_dir(None).unwrap_or_else(|| repo().join("models"));
            match Embedder::load(&dir, 2) {
                Ok(e) => Some(e),
                Err(e) => {
                    assert!(
                        std::env::var("BUBBLE_REQUIRE_MODELS").as_deref() != Ok("1"),
                        "model required: {e}"
                    );
                    eprintln!("hybrid traces skipped: {e}");
                    None
                }
            }
        };
        let corpus = [repo().join("corpora/acme")];
        let make = |embedder: Option<&Embedder>| {
            let dir = tempfile::tempdir().unwrap();
            build(
                dir.path(),
                &corpus,
                &BuildOptions::default(),
                embedder,
                &mut |_| {},
            )
            .unwrap();
            let index = Index::open(dir.path()).unwrap();
            (dir, index)
        };
        let (bm25_dir, bm25) = make(None);
        let mut dirs = vec![bm25_dir];
        let hybrid = embedder.as_ref().map(|e| {
            let (dir, index) = make(Some(e));
            dirs.push(dir);
            index
        });
        Setup {
            bm25,
            hybrid,
            embedder,
            _dirs: dirs,
        }
    })
}

/// The contexts to run in: a BM25-only index, and a hybrid one with its model.
fn contexts() -> Vec<(&'static str, &'static Index, Option<&'static Embedder>)> {
    let s = setup();
    let mut v = vec![("bm25", &s.bm25, None)];
    if let Some(h) = &s.hybrid {
        v.push(("hybrid", h, s.embedder.as_ref()));
    }
    v
}

fn queries() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("corpora/acme-queries.jsonl")).unwrap();
    let all: BTreeMap<String, String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["id"].as_str().unwrap().to_string(),
                v["query"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    QUERY_IDS
        .iter()
        .map(|id| {
            all.get(*id)
                .unwrap_or_else(|| panic!("gold query {id} missing"))
                .clone()
        })
        .collect()
}

fn run(
    index: &Index,
    embedder: Option<&Embedder>,
    pipeline_json: &str,
    query: &str,
    budget: usize,
) -> (BubbleOutput, Trace) {
    let counter = TokenCounter::by_name(&index.manifest().tokenizer).unwrap();
    let ctx = Context {
        retriever: Retriever::new(index, embedder),
        counter: &counter,
        ranker: None,
    };
    let pipeline = Pipeline::from_json(pipeline_json).unwrap();
    assemble(&ctx, &pipeline, query, budget).unwrap()
}

/// One finished request of the matrix.
struct Run {
    label: String,
    shipped: bool,
    out: BubbleOutput,
    trace: Trace,
}

/// Every (index, pipeline, query, budget), run once and shared by the tests.
fn runs() -> &'static [Run] {
    static RUNS: OnceLock<Vec<Run>> = OnceLock::new();
    RUNS.get_or_init(|| {
        let queries = queries();
        let shipped = pipelines::ALL.iter().map(|p| (true, *p));
        let extra = EXTRA_PIPELINES.iter().map(|p| (false, *p));
        let pipelines: Vec<(bool, (&str, &str))> = shipped.chain(extra).collect();
        let mut runs = Vec::new();
        for (index_name, index, embedder) in contexts() {
            for &(is_shipped, (name, json)) in &pipelines {
                for query in &queries {
                    for budget in BUDGETS {
                        let (out, trace) = run(index, embedder, json, query, budget);
                        runs.push(Run {
                            label: format!("[{index_name} index, pipeline {name}, budget {budget}, query {query:?}]"),
                            shipped: is_shipped,
                            out,
                            trace,
                        });
                    }
                }
            }
        }
        runs
    })
}

/// The trace as JSON with every timing zeroed.
fn without_timings(trace: &Trace) -> Value {
    let mut v = serde_json::to_value(trace).unwrap();
    for op in v["operators"].as_array_mut().unwrap() {
        op["ms"] = json!(0.0);
    }
    v
}

#[test]
fn schema_is_a_valid_draft_2020_12_schema() {
    if let Err(e) = jsonschema::draft202012::meta::validate(schema()) {
        panic!("docs/trace.schema.json is not a valid 2020-12 schema: {e}");
    }
    let _ = validator();
}

#[test]
fn every_trace_matches_the_schema() {
    let mut failures = Vec::new();
    for r in runs() {
        let value = serde_json::to_value(&r.trace).unwrap();
        let errors = schema_errors(&value);
        if !errors.is_empty() {
            failures.push(format!("{}\n  {}", r.label, errors.join("\n  ")));
        }
    }
    assert!(runs().len() >= pipelines::ALL.len() * QUERY_IDS.len() * BUDGETS.len());
    assert!(
        failures.is_empty(),
        "{} of {} traces do not match docs/trace.schema.json:\n{}",
        failures.len(),
        runs().len(),
        failures.join("\n")
    );
    // The runs reach the schema's optional parts: nulls, expansions, every step form.
    let all: Vec<Value> = runs()
        .iter()
        .map(|r| serde_json::to_value(&r.trace).unwrap())
        .collect();
    let any_reason = |prefix: &str| {
        all.iter().any(|t| {
            t["candidates"].as_array().unwrap().iter().any(|c| {
                c["decision"]["reason"]
                    .as_str()
                    .is_some_and(|s| s.starts_with(prefix))
            })
        })
    };
    assert!(
        any_reason("selected") && any_reason("budget_exceeded"),
        "no traces selected and rejected spans"
    );
    assert!(
        all.iter().any(|t| t["index"]["embedding_model"].is_null()),
        "no BM25-only trace"
    );
    assert!(
        all.iter()
            .any(|t| t["summary"]["reasons"].get("undecided").is_some()),
        "no undecided candidates"
    );
    if setup().hybrid.is_some() {
        assert!(
            all.iter()
                .any(|t| t["index"]["embedding_model"].is_string()),
            "no hybrid trace"
        );
        assert!(
            any_reason("expanded_from:"),
            "no table header was brought along by a row"
        );
    }
}

#[test]
fn traces_are_deterministic_apart_from_timings() {
    let queries = queries();
    let (first, last) = (&queries[0], &queries[queries.len() - 1]);
    for (index_name, index, embedder) in contexts() {
        for (name, json) in pipelines::ALL.iter().chain(EXTRA_PIPELINES.iter()) {
            for (query, budget) in [(first, 300), (last, 1000), (last, 64)] {
                let (out_a, trace_a) = run(index, embedder, json, query, budget);
                let (out_b, trace_b) = run(index, embedder, json, query, budget);
                let label = format!(
                    "[{index_name} index, pipeline {name}, budget {budget}, query {query:?}]"
                );
                assert_eq!(
                    trace_a.trace_id, trace_b.trace_id,
                    "{label}: trace ids differ"
                );
                assert_eq!(
                    without_timings(&trace_a),
                    without_timings(&trace_b),
                    "{label}: traces differ beyond `ms`"
                );
                assert_eq!(out_a, out_b, "{label}: outputs differ");
                assert_eq!(
                    serde_json::to_string(&out_a).unwrap(),
                    serde_json::to_string(&out_b).unwrap(),
                    "{label}: serialized outputs differ"
                );
            }
        }
    }
}

/// Collects a failure instead of stopping at the first, so one run reports them all.
macro_rules! check {
    ($failures:expr, $cond:expr, $($msg:tt)+) => {
        if !$cond {
            $failures.push(format!($($msg)+));
        }
    };
}

#[test]
fn trace_counts_agree_with_the_bubble() {
    let mut failures: Vec<String> = Vec::new();
    let mut table_shown = false;
    for r in runs() {
        let (t, out, label) = (&r.trace, &r.out, &r.label);
        let s = &t.summary;
        let before = failures.len();
        if r.shipped {
            let undecided: Vec<String> = t
                .candidates
                .iter()
                .filter(|c| c.decision.is_none())
                .map(|c| {
                    format!(
                        "{} ({}, {} tokens, {})",
                        c.span_id, c.kind, c.tokens, c.source
                    )
                })
                .collect();
            check!(
                failures,
                undecided.is_empty(),
                "{label}: candidates without a decision: {undecided:?}"
            );
        }
        // Selected candidates are exactly the bubble's spans, each once.
        let selected: Vec<&str> = t
            .candidates
            .iter()
            .filter(|c| c.is_selected())
            .map(|c| c.span_id.as_str())
            .collect();
        let selected_set: HashSet<&str> = selected.iter().copied().collect();
        let ids: HashSet<&str> = t.candidates.iter().map(|c| c.span_id.as_str()).collect();
        check!(
            failures,
            ids.len() == t.candidates.len(),
            "{label}: a span is a candidate twice"
        );
        let cited: Vec<&str> = out
            .bubble
            .citations
            .iter()
            .map(|c| c.span_id.as_str())
            .collect();
        let cited_set: HashSet<&str> = cited.iter().copied().collect();
        check!(
            failures,
            cited_set.len() == cited.len(),
            "{label}: a span is cited twice: {cited:?}"
        );
        check!(
            failures,
            s.selected == selected.len(),
            "{label}: summary.selected {} but {} candidates selected",
            s.selected,
            selected.len()
        );
        check!(
            failures,
            out.spans.len() == selected.len(),
            "{label}: {} bubble spans but {} candidates selected",
            out.spans.len(),
            selected.len()
        );
        check!(
            failures,
            cited_set == selected_set,
            "{label}: cited spans {cited_set:?} are not the selected candidates {selected_set:?}"
        );
        for span in &out.spans {
            let reason = t
                .candidates
                .iter()
                .find(|c| c.span_id == span.span_id)
                .and_then(|c| c.decision.as_ref())
                .map(|d| d.reason.as_ref());
            check!(
                failures,
                reason == Some(span.reason.as_str()),
                "{label}: bubble span {} has reason {:?}, its candidate {reason:?}",
                span.span_id,
                span.reason
            );
        }
        // The reasons add up and match the decisions.
        check!(
            failures,
            s.candidates == t.candidates.len(),
            "{label}: summary.candidates {} of {}",
            s.candidates,
            t.candidates.len()
        );
        let total: usize = s.reasons.values().sum();
        check!(
            failures,
            total == s.candidates,
            "{label}: reasons {:?} add up to {total}, not {}",
            s.reasons,
            s.candidates
        );
        let in_reasons = s.reasons.get("selected").copied().unwrap_or(0)
            + s.reasons.get("expanded_from").copied().unwrap_or(0)
            + s.reasons.get("whole_table").copied().unwrap_or(0)
            + s.reasons.get("whole_section").copied().unwrap_or(0);
        check!(
            failures,
            in_reasons == selected.len(),
            "{label}: reasons {:?} but {} candidates selected",
            s.reasons,
            selected.len()
        );
        // The budget holds and is reported consistently.
        check!(
            failures,
            s.tokens_used <= t.request.budget,
            "{label}: {} tokens used of {}",
            s.tokens_used,
            t.request.budget
        );
        check!(
            failures,
            s.budget == t.request.budget,
            "{label}: summary.budget {} vs request.budget {}",
            s.budget,
            t.request.budget
        );
        check!(
            failures,
            s.tokens_used == out.bubble.tokens,
            "{label}: summary.tokens_used {} vs bubble tokens {}",
            s.tokens_used,
            out.bubble.tokens
        );
        check!(
            failures,
            out.trace_id == t.trace_id,
            "{label}: output trace id {} vs {}",
            out.trace_id,
            t.trace_id
        );
        check!(
            failures,
            t.request.pipeline == t.pipeline.name,
            "{label}: request.pipeline vs pipeline.name"
        );
        // Operators: the last one saw every candidate; selections never exceed candidates.
        match t.operators.last() {
            None => failures.push(format!("{label}: no operators")),
            Some(last) => check!(
                failures,
                last.candidates_out == t.candidates.len(),
                "{label}: last operator has {} candidates out of {}",
                last.candidates_out,
                t.candidates.len()
            ),
        }
        for op in &t.operators {
            check!(
                failures,
                op.selected_out <= op.candidates_out && op.ms >= 0.0,
                "{label}: operator {op:?}"
            );
        }
        // Every retrieve divides BM25 scores by its query's best.
        for c in &t.candidates {
            if let Some(b) = c.scores.bm25 {
                check!(
                    failures,
                    b.score > 0.0 && b.score <= 1.0 + 1e-6,
                    "{label}: bm25 score {} of {} is not relative to the best",
                    b.score,
                    c.span_id
                );
            }
        }
        // The new-section bonus went to the first span admitted from each
        // section, and only to it (default-mode pipelines, weight 0.1).
        if ["default", "multihop"].contains(&t.pipeline.name.as_str()) {
            let mut bonus_by_section: BTreeMap<String, (usize, usize)> = BTreeMap::new();
            for c in t
                .candidates
                .iter()
                .filter(|c| c.decision.as_ref().is_some_and(|d| d.reason == "selected"))
            {
                let e = bonus_by_section.entry(c.section_key()).or_default();
                e.0 += 1;
                e.1 += usize::from(c.scores.new_section > 0.0);
                check!(
                    failures,
                    c.scores.new_section == 0.0 || (c.scores.new_section - 0.1).abs() < 1e-6,
                    "{label}: new_section bonus {} is neither 0 nor section_weight",
                    c.scores.new_section
                );
            }
            for (section, (selected, with_bonus)) in bonus_by_section {
                check!(
                    failures,
                    with_bonus == 1,
                    "{label}: section {section:?} has {selected} selected spans, {with_bonus} with the new-section bonus"
                );
            }
        }
        // The trace reads back as written (what `bubble trace show` does).
        let back: Trace = serde_json::from_value(serde_json::to_value(t).unwrap()).unwrap();
        check!(
            failures,
            &back == t,
            "{label}: the trace does not round-trip through JSON"
        );
        check!(
            failures,
            t.to_table().contains(&t.trace_id),
            "{label}: the table lacks the trace id"
        );
        if failures.len() > before && !table_shown {
            table_shown = true;
            eprintln!("first failing trace {label}:\n{}", t.to_table());
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed checks over {} traces:\n{}",
        failures.len(),
        runs().len(),
        failures.join("\n")
    );
}

/// A real trace with at least one selected and one rejected candidate.
fn sample_trace() -> Value {
    let r = runs()
        .iter()
        .find(|r| {
            r.shipped
                && r.trace.summary.selected > 0
                && r.trace
                    .candidates
                    .iter()
                    .any(|c| !c.is_selected() && c.decision.is_some())
        })
        .expect("a trace with selected and rejected spans");
    serde_json::to_value(&r.trace).unwrap()
}

#[test]
fn schema_rejects_malformed_traces() {
    let good = sample_trace();
    assert_eq!(schema_errors(&good), Vec::<String>::new());
    let first_selected = good["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["decision"]["selected"] == json!(true))
        .unwrap();
    let first_rejected = good["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["decision"]["selected"] == json!(false))
        .unwrap();
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "unknown top-level field",
            Box::new(|t| t["extra"] = json!(1)),
        ),
        (
            "unknown candidate field",
            Box::new(|t| t["candidates"][0]["extra"] = json!("x")),
        ),
        (
            "unknown score field",
            Box::new(|t| t["candidates"][0]["scores"]["bonus"] = json!(1.0)),
        ),
        (
            "unknown summary field",
            Box::new(|t| t["summary"]["extra"] = json!(0)),
        ),
        (
            "unknown operator field",
            Box::new(|t| t["operators"][0]["extra"] = json!(0)),
        ),
        (
            "missing summary",
            Box::new(|t| {
                let _ = t.as_object_mut().unwrap().remove("summary");
            }),
        ),
        (
            "missing decision",
            Box::new(|t| {
                let _ = t["candidates"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("decision");
            }),
        ),
        (
            "bad reason",
            Box::new(move |t| {
                t["candidates"][first_rejected]["decision"]["reason"] = json!("not_relevant")
            }),
        ),
        (
            "reason with a suffix",
            Box::new(move |t| {
                t["candidates"][first_rejected]["decision"]["reason"] = json!("budget_exceeded!")
            }),
        ),
        (
            "bad expanded_from id",
            Box::new(move |t| {
                t["candidates"][first_selected]["decision"]["reason"] = json!("expanded_from:XYZ")
            }),
        ),
        (
            "selected with an out reason",
            Box::new(move |t| {
                t["candidates"][first_selected]["decision"]["reason"] = json!("too_redundant")
            }),
        ),
        (
            "rejected with an in reason",
            Box::new(move |t| {
                t["candidates"][first_rejected]["decision"]["reason"] = json!("selected")
            }),
        ),
        (
            "step not a string",
            Box::new(move |t| t["candidates"][first_selected]["decision"]["step"] = json!(3)),
        ),
        (
            "unknown kind",
            Box::new(|t| t["candidates"][0]["kind"] = json!("chapter")),
        ),
        (
            "kind in CamelCase",
            Box::new(|t| t["candidates"][0]["kind"] = json!("TableHeader")),
        ),
        (
            "short trace id",
            Box::new(|t| t["trace_id"] = json!("abc123")),
        ),
        (
            "fractional tokens",
            Box::new(|t| t["candidates"][0]["tokens"] = json!(1.5)),
        ),
        (
            "NaN score (null)",
            Box::new(|t| t["candidates"][0]["scores"]["final_score"] = Value::Null),
        ),
        (
            "rank 0 in a channel",
            Box::new(|t| {
                t["candidates"][0]["scores"]["bm25"] = json!({"position": 0, "score": 1.0})
            }),
        ),
        (
            "reason count as string",
            Box::new(|t| t["summary"]["reasons"]["selected"] = json!("3")),
        ),
        (
            "unknown reason key",
            Box::new(|t| t["summary"]["reasons"]["maybe"] = json!(1)),
        ),
        (
            "negative budget",
            Box::new(|t| t["request"]["budget"] = json!(-1)),
        ),
        (
            "steps not objects",
            Box::new(|t| t["pipeline"]["steps"] = json!(["retrieve"])),
        ),
        (
            "unknown operator in steps",
            Box::new(|t| t["pipeline"]["steps"] = json!([{"op": "summarize"}])),
        ),
        (
            "unknown parameter in steps",
            Box::new(|t| t["pipeline"]["steps"] = json!([{"op": "bubble", "budget": 3}])),
        ),
        (
            "unknown operator record",
            Box::new(|t| t["operators"][0]["op"] = json!("guess")),
        ),
        (
            "embedding model not a string",
            Box::new(|t| t["index"]["embedding_model"] = json!(false)),
        ),
    ];
    let mut accepted = Vec::new();
    for (what, mutate) in &cases {
        let mut bad = good.clone();
        mutate(&mut bad);
        if schema_errors(&bad).is_empty() {
            accepted.push(*what);
        }
    }
    assert!(
        accepted.is_empty(),
        "the schema accepted malformed traces: {accepted:?}"
    );
}

/// A validator for one of the schema's definitions (`#/$defs/<name>`).
fn def_validator(name: &str) -> Validator {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": schema()["$defs"].clone(),
        "$ref": format!("#/$defs/{name}"),
    });
    jsonschema::draft202012::new(&schema).unwrap()
}

/// Whether the pipeline parser accepts a one-step pipeline.
fn parses(step: &Value) -> Result<(), String> {
    let spec = json!({"name": "probe", "steps": [step]}).to_string();
    Pipeline::from_json(&spec)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The schema's step definitions and the pipeline parser agree: each
/// operator's parameters are exactly the ones its Rust type has, every enum
/// value the schema lists parses, and what the parser refuses the schema refuses.
#[test]
fn schema_steps_agree_with_the_pipeline_parser() {
    use bubble_assembly::ops::{
        bubble::BubbleParams, retrieve::ExpandParams, retrieve::RetrieveParams, units::UnitsParams,
    };
    let defs = &schema()["$defs"];
    let step = def_validator("step");
    let mut failures: Vec<String> = Vec::new();
    // Parameters by name, from each operator's defaults.
    let defaults = [
        (
            "retrieve",
            serde_json::to_value(RetrieveParams::default()).unwrap(),
        ),
        (
            "expand",
            serde_json::to_value(ExpandParams::default()).unwrap(),
        ),
        (
            "units",
            serde_json::to_value(UnitsParams::default()).unwrap(),
        ),
        (
            "bubble",
            serde_json::to_value(BubbleParams::default()).unwrap(),
        ),
        (
            "rank",
            serde_json::to_value(bubble_assembly::ops::rank::RankParams::default()).unwrap(),
        ),
        ("render", json!({})),
    ];
    for (op, params) in &defaults {
        let def = &defs[format!("step_{op}")];
        let mut in_schema: Vec<&str> = def["properties"]
            .as_object()
            .map(|o| {
                o.keys()
                    .map(String::as_str)
                    .filter(|k| *k != "op")
                    .collect()
            })
            .unwrap_or_default();
        let mut in_rust: Vec<&str> = params
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        in_schema.sort_unstable();
        in_rust.sort_unstable();
        check!(
            failures,
            in_schema == in_rust,
            "{op}: schema parameters {in_schema:?}, Rust parameters {in_rust:?}"
        );
        // The defaults, written out in full, are a valid step for both.
        let mut full = params.clone();
        full["op"] = json!(op);
        check!(
            failures,
            parses(&full).is_ok(),
            "{op}: the parser refuses its own defaults {full}: {:?}",
            parses(&full)
        );
        check!(
            failures,
            step.is_valid(&full),
            "{op}: the schema refuses the defaults {full}"
        );
        // An unknown parameter is refused by both.
        let mut unknown = json!({"op": op});
        unknown["no_such_param"] = json!(1);
        check!(
            failures,
            parses(&unknown).is_err() && !step.is_valid(&unknown),
            "{op}: an unknown parameter is not refused by both"
        );
    }
    // Every value of every enum the schema lists parses; a value it does not list fails both.
    let kinds: Vec<Value> = defs["span_kind"]["enum"].as_array().unwrap().clone();
    let mut probes: Vec<(Value, bool)> = vec![
        (json!({"op": "fuse"}), true),
        (json!({"op": "fuse", "method": "rrf", "k": 30}), true),
        (
            json!({"op": "fuse", "method": "weighted", "dense_weight": 0.3}),
            true,
        ),
        (json!({"op": "fuse", "method": "rrf"}), false),
        (json!({"op": "fuse", "method": "borda", "k": 1}), false),
        (json!({"op": "retrieve", "kinds": kinds}), true),
        (json!({"op": "retrieve", "kinds": ["chapter"]}), false),
        (json!({"op": "retrieve", "depth": 0}), false),
        (
            json!({"op": "bubble", "kind_boosts": {"chapter": 1.0}}),
            false,
        ),
        (json!({"op": "bubble", "delta": 1.5}), false),
        (json!({"op": "bubble", "section_share": 0}), false),
        (json!({"op": "bubble", "theta": 0}), false),
        (json!({"op": "bubble", "max_similarity": 2}), false),
        (json!({"op": "bubble", "redundancy_weight": -1}), false),
        (json!({"op": "bubble", "mode": "greedy"}), false),
        (json!({"op": "units", "base": 2}), false),
        (json!({"op": "rank", "k": 3}), false),
        (json!({"op": "summarize"}), false),
        (
            json!({"if": {"query_has_number": true}, "then": [{"op": "rank"}]}),
            true,
        ),
        (
            json!({"if": {"query_terms_at_least": 3}, "else": [{"op": "rank"}]}),
            true,
        ),
        (json!({"if": {"coverage_below": 0.5}}), true),
        (
            json!({"if": {"query_has_number": true, "coverage_below": 0.5}}),
            false,
        ),
        (json!({"if": {"sunny": true}}), false),
        (json!({"if": {"coverage_below": 0.5}, "when": []}), false),
        (json!({"branch": [[{"op": "rank"}], []]}), true),
        (json!({"branch": [[{"op": "rank"}]]}), false),
        (json!({"branch": [[], []], "choose": "votes"}), false),
        (json!({"loop": [{"op": "rank"}], "max": 10}), true),
        (json!({"loop": [{"op": "rank"}], "max": 11}), false),
        (json!({"loop": []}), false),
        (json!({"op": "rank", "loop": [{"op": "rank"}]}), false),
    ];
    for (key, op) in [
        ("mode", "retrieve"),
        ("query", "retrieve"),
        ("mode", "bubble"),
    ] {
        for v in defs[format!("step_{op}")]["properties"][key]["enum"]
            .as_array()
            .unwrap()
        {
            probes.push((json!({"op": op, key: v}), true));
        }
    }
    for v in defs["step_branch"]["properties"]["choose"]["enum"]
        .as_array()
        .unwrap()
    {
        probes.push((json!({"branch": [[], []], "choose": v}), true));
    }
    for k in &kinds {
        let mut boosts = serde_json::Map::new();
        boosts.insert(k.as_str().unwrap().to_string(), json!(0.1));
        probes.push((json!({"op": "bubble", "kind_boosts": boosts}), true));
    }
    for (probe, valid) in &probes {
        let (parsed, schema_ok) = (parses(probe), step.is_valid(probe));
        check!(
            failures,
            parsed.is_ok() == *valid,
            "parser on {probe}: expected {}, got {parsed:?}",
            if *valid { "accepted" } else { "refused" }
        );
        check!(
            failures,
            schema_ok == *valid,
            "schema on {probe}: expected {}, got {}",
            if *valid { "valid" } else { "invalid" },
            if schema_ok { "valid" } else { "invalid" }
        );
    }
    // Operator records name the operators the steps define, or a flow.
    let mut step_ops: Vec<String> = defs["step"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            let name = r["$ref"].as_str()?.strip_prefix("#/$defs/")?;
            defs[name]["properties"]["op"]["const"]
                .as_str()
                .map(String::from)
        })
        .chain(["if", "branch", "loop"].map(String::from))
        .collect();
    let mut record_ops: Vec<String> = defs["operator"]["properties"]["op"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    step_ops.sort();
    record_ops.sort();
    check!(
        failures,
        step_ops == record_ops,
        "step operators {step_ops:?} vs operator record names {record_ops:?}"
    );
    assert!(
        failures.is_empty(),
        "the schema and the pipeline parser disagree:\n{}",
        failures.join("\n")
    );
}
