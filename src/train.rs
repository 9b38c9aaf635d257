//! `bubble train rank`: the ranker's heads from training data, written
//! with how they were made.

use crate::cli::{RankDataset, TrainCommand, TrainRankArgs};
use crate::commands::load_embedder_noisily;
use crate::progress::BuildBar;
use anyhow::{Context, Result};
use std::process::ExitCode;

pub fn run(what: TrainCommand) -> Result<ExitCode> {
    match what {
        TrainCommand::Rank(args) => train_rank(args),
    }
}

fn train_rank(args: TrainRankArgs) -> Result<ExitCode> {
    let embedder = load_embedder_noisily(&args.model)?
        .context("the ranker is trained over the model's vectors: it needs the embedding model")?;
    let mut pool = bubble_eval::rank_train::Pool::default();
    let mut bar = BuildBar::new();
    let mut sources = Vec::new();
    for dataset in &args.dataset {
        let n = match dataset {
            RankDataset::Scifact => {
                let data = bubble_eval::scifact::load_train(&args.scifact)
                    .with_context(|| format!("loading SciFact from {}", args.scifact.display()))?;
                let index = bubble_eval::retrieval::scifact_index(
                    &args.work.join("scifact"),
                    &data,
                    &embedder,
                    &mut |p| bar.update(p),
                )?;
                bubble_eval::rank_train::scifact(&mut pool, &data, &index, &embedder)?
            }
            RankDataset::Nodejs => {
                if !args.corpus.is_dir() {
                    anyhow::bail!(
                        "no documentation at {} (scripts/fetch-nodejs-docs fetches it)",
                        args.corpus.display()
                    );
                }
                let questions = bubble_eval::docs::load_questions(&args.queries, "train")?;
                let index =
                    bubble_eval::docs::docs_index(&args.work, &args.corpus, &embedder, &mut |p| {
                        bar.update(p)
                    })?;
                bubble_eval::rank_train::docs(
                    &mut pool,
                    &questions,
                    &args.corpus,
                    &index,
                    &embedder,
                )?
            }
        };
        eprintln!("{dataset:?}: {n} training questions");
        sources.push(format!("{dataset:?}: {n}"));
    }
    bar.finish();
    let opts = bubble_rank::TrainOptions {
        epochs: args.epochs,
        seed: args.seed,
        ..bubble_rank::TrainOptions::default()
    };
    let started = std::time::Instant::now();
    let (mut heads, report) = bubble_rank::train(&pool.values, pool.dim, &pool.examples, &opts)?;
    heads.meta["model"] = embedder.id().into();
    heads.meta["data"] = sources.into();
    heads.meta["command"] = "bubble train rank".into();
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    heads.write(&args.out)?;
    println!(
        "trained on {} questions in {:.1} s; loss per epoch {:?}; heads written to {}",
        report.examples,
        started.elapsed().as_secs_f64(),
        report
            .loss
            .iter()
            .map(|l| (l * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
