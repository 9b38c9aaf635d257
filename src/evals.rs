//! `bubble eval …`: each evaluation's flags into its runner, and its result
//! printed as a table or JSON.

use crate::cli::{
    CompressDataset, Dataset, EvalAblationArgs, EvalBackendsArgs, EvalBubbleArgs, EvalCommand,
    EvalCompressArgs, EvalDocsArgs, EvalLoadArgs, EvalRetrievalArgs, EvalScaleArgs, EvalUnitsArgs,
};
use crate::commands::load_embedder_noisily;
use crate::progress::BuildBar;
use anyhow::{Context, Result};
use bubble_retrieval::{Fusion, Mode};
use std::process::ExitCode;

pub fn run(what: EvalCommand) -> Result<ExitCode> {
    match what {
        EvalCommand::Retrieval(args) => eval_retrieval(args),
        EvalCommand::Bubble(args) => eval_bubble(args),
        EvalCommand::Ablation(args) => eval_ablation(args),
        EvalCommand::Units(args) => eval_units(args),
        EvalCommand::Compress(args) => eval_compress(args),
        EvalCommand::Docs(args) => eval_docs(args),
        EvalCommand::Scale(args) => eval_scale(args),
        EvalCommand::Load(args) => eval_load(args),
        EvalCommand::Backends(args) => eval_backends(args),
    }
}

/// SciFact's claims: the test split, and the test and training ones together
/// (distinct, sorted).
fn scifact_claims(data: &std::path::Path) -> Result<(Vec<String>, Vec<String>)> {
    let test = bubble_eval::scifact::load(data)
        .with_context(|| format!("loading SciFact from {}", data.display()))?;
    let train = bubble_eval::scifact::load_train(data)
        .with_context(|| format!("loading SciFact from {}", data.display()))?;
    let tests: Vec<String> = test.queries.into_iter().map(|q| q.text).collect();
    let mut all: Vec<String> = tests
        .iter()
        .cloned()
        .chain(train.queries.into_iter().map(|q| q.text))
        .collect();
    all.sort();
    all.dedup();
    Ok((tests, all))
}

fn eval_backends(args: EvalBackendsArgs) -> Result<ExitCode> {
    use bubble_eval::source::Source;
    let (tests, claims) = scifact_claims(&args.data)?;
    let embedder = load_embedder_noisily(&args.model)?.map(std::sync::Arc::new);
    let ranker = crate::commands::load_ranker(&args.model, embedder.as_deref())?;
    let store = bubble_postgres::Store::connect(&args.store, 16)?;
    let mut rows = Vec::new();
    for name in ["index", "postgres"] {
        let (source, backend) = match name {
            "index" => (
                Source::Embedded(Box::new(
                    bubble_index::Index::open(&args.index).with_context(|| {
                        format!(
                            "opening {} (build it with bubble eval retrieval --dataset scifact)",
                            args.index.display()
                        )
                    })?,
                )),
                bubble_server::Backend::Index(args.index.clone()),
            ),
            _ => (
                Source::Postgres(store.clone()),
                bubble_server::Backend::Postgres(store.clone()),
            ),
        };
        // Warm both the same way: one pass unmeasured.
        bubble_eval::backends::search_latency(&source, &tests, embedder.as_deref(), 1)?;
        let search =
            bubble_eval::backends::search_latency(&source, &tests, embedder.as_deref(), 2)?;
        drop(source);
        let state = bubble_server::AppState::new(bubble_server::Parts {
            backend,
            embedder: embedder.clone(),
            writer_embedder: None,
            ranker: ranker.clone(),
            config: bubble_server::Config {
                // Every request is computed: the figures are work, not lookups.
                result_cache: 0,
                ..bubble_server::Config::default()
            },
            notices: Vec::new(),
        })?;
        let opts = bubble_server::load::LoadOptions {
            queries: claims.clone(),
            budget: args.budget,
            clients: args.clients,
            seconds: args.seconds,
            rate: 0.0,
            upserts: 0.0,
        };
        let context = bubble_server::load::context_closed_loop(state, &opts)?;
        rows.push(serde_json::json!({
            "store": name,
            "search_p50_ms": search.p50_ms,
            "search_p99_ms": search.p99_ms,
            "searches": search.searches,
            "context_p50_ms": context.p50_ms,
            "context_p99_ms": context.p99_ms,
            "context_qps": context.qps,
            "context_errors": context.errors,
        }));
    }
    print_result(args.json, &rows, || {
        let mut t = format!(
            "| store | hybrid search p50 ms (p99) | /v1/context p50 ms (p99), {} clients | context QPS | errors |\n|---|---:|---:|---:|---:|\n",
            args.clients
        );
        for r in &rows {
            t += &format!(
                "| {} | {:.1} ({:.1}) | {:.1} ({:.1}) | {:.1} | {} |\n",
                r["store"].as_str().unwrap_or_default(),
                r["search_p50_ms"].as_f64().unwrap_or_default(),
                r["search_p99_ms"].as_f64().unwrap_or_default(),
                r["context_p50_ms"].as_f64().unwrap_or_default(),
                r["context_p99_ms"].as_f64().unwrap_or_default(),
                r["context_qps"].as_f64().unwrap_or_default(),
                r["context_errors"].as_u64().unwrap_or_default(),
            );
        }
        let ratio = |k: &str| {
            rows[1][k].as_f64().unwrap_or(0.0) / rows[0][k].as_f64().unwrap_or(1.0).max(1e-9)
        };
        t += &format!(
            "\npostgres / index: search p50 {:.2}x, context p50 {:.2}x\n",
            ratio("search_p50_ms"),
            ratio("context_p50_ms")
        );
        t
    })?;
    Ok(ExitCode::SUCCESS)
}

fn eval_load(args: EvalLoadArgs) -> Result<ExitCode> {
    let mut queries: Vec<String> = Vec::new();
    for set in [
        bubble_eval::scifact::load(&args.data),
        bubble_eval::scifact::load_train(&args.data),
    ] {
        let set = set.with_context(|| format!("loading SciFact from {}", args.data.display()))?;
        queries.extend(set.queries.into_iter().map(|q| q.text));
    }
    queries.sort();
    queries.dedup();
    let copy = args.work.join("index");
    if copy.exists() {
        std::fs::remove_dir_all(&copy).with_context(|| format!("clearing {}", copy.display()))?;
    }
    copy_dir(&args.index, &copy).with_context(|| {
        format!(
            "copying {} (build it with bubble eval retrieval --dataset scifact)",
            args.index.display()
        )
    })?;
    let embedder = load_embedder_noisily(&args.model)?;
    let writer_embedder = match embedder {
        Some(_) => load_embedder_noisily(&args.model)?.map(std::sync::Arc::new),
        None => None,
    };
    let ranker = crate::commands::load_ranker(&args.model, embedder.as_ref())?;
    let config = bubble_server::Config {
        // Every request is computed: the figures are work, not lookups.
        result_cache: 0,
        ..bubble_server::Config::default()
    };
    let state = bubble_server::AppState::new(bubble_server::Parts {
        backend: bubble_server::Backend::Index(copy),
        embedder: embedder.map(std::sync::Arc::new),
        writer_embedder,
        ranker,
        config,
        notices: Vec::new(),
    })?;
    let opts = bubble_server::load::LoadOptions {
        queries,
        budget: args.budget,
        clients: args.clients,
        seconds: args.seconds,
        rate: args.rate,
        upserts: args.upserts,
    };
    let rows = bubble_server::load::run(state, &opts)?;
    print_result(args.json, &rows, || bubble_server::load::table(&rows))?;
    Ok(ExitCode::SUCCESS)
}

/// Copies a folder tree (an index: plain files and folders).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if entry.file_name() != bubble_index::LOCK_FILE {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn eval_scale(args: EvalScaleArgs) -> Result<ExitCode> {
    let opts = bubble_eval::scale::ScaleOptions {
        sizes: args.sizes,
        work_dir: args.work,
        queries: args.queries,
        updates: args.updates,
        vectors: args.vectors,
        reuse: args.reuse,
    };
    let result = bubble_eval::scale::run(&opts)?;
    print_result(args.json, &result, || result.to_table())?;
    Ok(ExitCode::SUCCESS)
}

fn eval_retrieval(args: EvalRetrievalArgs) -> Result<ExitCode> {
    let Dataset::Scifact = args.dataset;
    let data = bubble_eval::scifact::load(&args.data)
        .with_context(|| format!("loading SciFact from {}", args.data.display()))?;
    let embedder = load_embedder_noisily(&args.model)?;
    let opts = bubble_eval::retrieval::RetrievalEvalOptions {
        work_dir: args.work.join("scifact"),
        modes: vec![Mode::Bm25, Mode::Dense, Mode::Hybrid],
        fusions: vec![
            Fusion::Rrf { k: 60.0 },
            Fusion::Weighted {
                dense_weight: args.dense_weight,
            },
        ],
        depth: 100,
        ef: 128,
        rerank: crate::commands::load_ranker(&args.model, embedder.as_ref())?
            .map(|r| (r, args.ranker_weight)),
        store: args.store.clone(),
    };
    let mut bar = BuildBar::new();
    let result = bubble_eval::retrieval::run_scifact(&data, &opts, embedder.as_ref(), &mut |p| {
        bar.update(p)
    })?;
    bar.finish();
    print_result(args.json, &result, || result.to_table())?;
    Ok(ExitCode::SUCCESS)
}

/// Prints an evaluation's result: JSON, or its table.
fn print_result(
    json: bool,
    value: &impl serde::Serialize,
    table: impl FnOnce() -> String,
) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        print!("{}", table());
    }
    Ok(())
}

fn eval_bubble(args: EvalBubbleArgs) -> Result<ExitCode> {
    let crate::cli::BubbleDataset::Hotpotqa = args.dataset;
    let data = bubble_eval::hotpotqa::load(&args.data).with_context(|| {
        format!(
            "loading HotpotQA from {} (run scripts/fetch-eval-data)",
            args.data.display()
        )
    })?;
    let embedder = load_embedder_noisily(&args.model)?;
    let opts = bubble_eval::bubble::BubbleEvalOptions {
        work_dir: args.work.join("hotpotqa"),
        questions: args.questions,
        budgets: args.budgets,
        depth: args.depth,
        store: args.store,
    };
    let ranker = crate::commands::load_ranker(&args.model, embedder.as_ref())?;
    let mut bar = BuildBar::new();
    let result = bubble_eval::bubble::run_hotpotqa(
        &data,
        &opts,
        embedder.as_ref(),
        ranker.as_ref(),
        &mut |p| bar.update(p),
    )?;
    bar.finish();
    print_result(args.json, &result, || result.to_table())?;
    Ok(ExitCode::SUCCESS)
}

fn eval_ablation(args: EvalAblationArgs) -> Result<ExitCode> {
    let embedder = load_embedder_noisily(&args.model)?;
    let opts = bubble_eval::ablation::AblationOptions {
        corpus: args.corpus,
        queries: args.queries,
        budget: args.budget,
        work_dir: args.work.join("ablation"),
    };
    let ranker = crate::commands::load_ranker(&args.model, embedder.as_ref())?;
    let result = bubble_eval::ablation::run(&opts, embedder.as_ref(), ranker.as_ref())?;
    // `--json` prints the rows, as it always has.
    print_result(args.json, &result.rows, || result.to_table())?;
    Ok(ExitCode::SUCCESS)
}

fn eval_units(args: EvalUnitsArgs) -> Result<ExitCode> {
    let data = bubble_eval::scifact::load(&args.data)
        .with_context(|| format!("loading SciFact from {}", args.data.display()))?;
    let embedder = load_embedder_noisily(&args.model)?
        .context("eval units measures unit vectors: it needs the embedding model")?;
    let opts = bubble_eval::units::UnitEvalOptions {
        work_dir: args.work.join("units"),
        reuse: args.reuse,
    };
    let mut bar = BuildBar::new();
    let result = bubble_eval::units::run_units(&data, &opts, &embedder, &mut |p| bar.update(p))?;
    bar.finish();
    print_result(args.json, &result, || result.to_table())?;
    Ok(ExitCode::SUCCESS)
}

fn eval_compress(args: EvalCompressArgs) -> Result<ExitCode> {
    use bubble_eval::compress::Dataset as D;
    let (dataset, data, questions) = match args.dataset {
        CompressDataset::Squad => (D::Squad, ".bubble/data/squad.json", 2000),
        CompressDataset::Hotpotqa => (D::Hotpotqa, ".bubble/data/hotpotqa.json", 1000),
        CompressDataset::Scifact => (D::Scifact, "../shared/data/scifact/scifact.zip", usize::MAX),
    };
    let data = args.data.unwrap_or_else(|| data.into());
    if !data.exists() {
        anyhow::bail!(
            "no dataset at {} (scripts/fetch-eval-data fetches SQuAD and HotpotQA; or pass --data)",
            data.display()
        );
    }
    let embedder = load_embedder_noisily(&args.model)?
        .context("eval compress works on unit vectors: it needs the embedding model")?;
    let opts = bubble_eval::compress::CompressEvalOptions {
        work_dir: args.work,
        dataset,
        data,
        rates: args.rates,
        questions: args.questions.unwrap_or(questions),
        mig_params: args.mig_params,
    };
    let mut bar = BuildBar::new();
    let result = bubble_eval::compress::run(&opts, &embedder, &mut |p| bar.update(p))?;
    bar.finish();
    print_result(args.json, &result, || result.to_table())?;
    Ok(ExitCode::SUCCESS)
}

fn eval_docs(args: EvalDocsArgs) -> Result<ExitCode> {
    if !args.corpus.is_dir() {
        anyhow::bail!(
            "no documentation at {} (scripts/fetch-nodejs-docs fetches the Node.js manual)",
            args.corpus.display()
        );
    }
    if !["test", "train", "all"].contains(&args.split.as_str()) {
        anyhow::bail!("--split must be test, train or all, not {:?}", args.split);
    }
    let questions = bubble_eval::docs::load_questions(&args.queries, &args.split)?;
    let embedder = load_embedder_noisily(&args.model)?;
    let mut extra = Vec::new();
    for path in &args.pipelines {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading pipeline {}", path.display()))?;
        let spec: bubble_assembly::PipelineSpec = serde_json::from_str(&text)
            .with_context(|| format!("parsing pipeline {}", path.display()))?;
        let mut steps = serde_json::to_value(&spec.steps)?;
        if let Some(list) = steps.as_array_mut() {
            if list.first().is_some_and(|s| s["op"] == "retrieve") {
                list.remove(0);
            }
        }
        extra.push((spec.name, steps.to_string()));
    }
    let opts = bubble_eval::docs::DocsEvalOptions {
        corpus: args.corpus,
        work_dir: args.work,
        budgets: args.budgets,
        depth: args.depth,
        extra,
    };
    let mut bar = BuildBar::new();
    let ranker = crate::commands::load_ranker(&args.model, embedder.as_ref())?;
    let result = bubble_eval::docs::run_docs(
        &questions,
        &opts,
        embedder.as_ref(),
        ranker.as_ref(),
        &mut |p| bar.update(p),
    )?;
    bar.finish();
    print_result(args.json, &result, || result.to_table())?;
    Ok(ExitCode::SUCCESS)
}
