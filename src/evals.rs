//! `bubble eval …`: each evaluation's flags into its runner, and its result
//! printed as a table or JSON.

use crate::cli::{
    CompressDataset, Dataset, EvalAblationArgs, EvalBubbleArgs, EvalCommand, EvalCompressArgs,
    EvalDocsArgs, EvalLoadArgs, EvalRetrievalArgs, EvalScaleArgs, EvalUnitsArgs,
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
    }
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
