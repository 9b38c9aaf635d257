//! Each subcommand: parse flags into library calls, print results.

use crate::cli::{
    Cli, Command, ContextArgs, FusionArg, IndexArgs, ModeArg, ModelArgs, SearchArgs, TraceCommand,
};
use crate::progress::BuildBar;
use crate::store;
use anyhow::{bail, Context, Result};
use bubble_index::bubble_ingest::{IngestOptions, SpanKind};
use bubble_index::{
    build, find_models_dir, index_files, BuildOptions, BuildReport, Embedder, Index, WalkOptions,
};
use bubble_retrieval::{Fusion, Mode, Retriever, SearchRequest, SpanFilter};
use std::path::Path;
use std::process::ExitCode;

/// Exit code when the run succeeded but some files were skipped.
const EXIT_SKIPPED: u8 = 3;

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Index(args) => index(args),
        Command::Search(args) => search(args),
        Command::Verify { index } => verify(&index),
        Command::Context(args) => context(args),
        Command::Trace {
            what: TraceCommand::Show { file },
        } => trace_show(&file),
        Command::Serve(args) => crate::serve::serve(args),
        Command::Key(args) => crate::serve::key(args),
        Command::Eval { what } => crate::evals::run(what),
        Command::Train { what } => crate::train::run(what),
    }
}

/// Loads the embedding model, or says why Bubble runs BM25-only.
/// `BUBBLE_REQUIRE_MODELS=1` turns a missing model into an error (for CI).
pub(crate) fn load_embedder(args: &ModelArgs) -> Result<(Option<Embedder>, Option<String>)> {
    if args.no_embed {
        return Ok((None, Some("BM25 only: --no-embed given".into())));
    }
    let required = std::env::var("BUBBLE_REQUIRE_MODELS").is_ok_and(|v| v == "1");
    let found = find_models_dir(args.models.as_deref());
    let result = match &found {
        Some(dir) => {
            let device = match args.device {
                crate::cli::DeviceArg::Cpu => bubble_index::Device::Cpu,
                crate::cli::DeviceArg::Cuda => bubble_index::Device::Cuda,
            };
            Embedder::load_on(dir, args.threads, device).map_err(|e| e.to_string())
        }
        None => Err("no models folder found (run scripts/setup, or pass --models DIR)".to_string()),
    };
    match result {
        Ok(e) => Ok((Some(e), None)),
        Err(why) if required => bail!("embedding model required (BUBBLE_REQUIRE_MODELS=1): {why}"),
        Err(why) => Ok((None, Some(format!("BM25 only: {why}")))),
    }
}

/// The ranker's heads: `--ranker FILE`, else the shipped heads for the
/// model beside the executable or the working folder; `--ranker none`, or
/// no heads found, scores by the plain cosine. Heads that do not fit the
/// model are an error, not a silent cosine.
pub(crate) fn load_ranker(
    args: &ModelArgs,
    embedder: Option<&Embedder>,
) -> Result<Option<bubble_rank::Ranker>> {
    let Some(embedder) = embedder else {
        return Ok(None);
    };
    let path = match &args.ranker {
        Some(p) if p.as_os_str() == "none" => return Ok(None),
        Some(p) => p.clone(),
        None => {
            let model = embedder.id().split('@').next().unwrap_or_default();
            let rel = Path::new("assets/ranker").join(format!("{model}.heads"));
            let found = std::env::current_exe()
                .ok()
                .into_iter()
                .flat_map(|exe| {
                    exe.ancestors()
                        .skip(1)
                        .map(Path::to_path_buf)
                        .collect::<Vec<_>>()
                })
                .chain(std::env::current_dir().ok())
                .map(|d| d.join(&rel))
                .find(|p| p.is_file());
            match found {
                Some(p) => p,
                None => return Ok(None),
            }
        }
    };
    let heads = bubble_rank::Heads::read(&path)?;
    let trained_for = heads.meta["model"].as_str().unwrap_or_default();
    if trained_for != embedder.id() {
        bail!(
            "ranker heads {} were trained for model {trained_for:?}, not {:?} (retrain: bubble train rank)",
            path.display(),
            embedder.id()
        );
    }
    if heads.dim() != embedder.dim() {
        bail!(
            "ranker heads {} are for vectors of {}, the model makes {}",
            path.display(),
            heads.dim(),
            embedder.dim()
        );
    }
    Ok(Some(heads.ranker()))
}

/// [`load_embedder`] for commands that print results, not a summary: the
/// BM25-only notice goes to stderr.
pub(crate) fn load_embedder_noisily(args: &ModelArgs) -> Result<Option<Embedder>> {
    let (embedder, notice) = load_embedder(args)?;
    if let Some(n) = notice {
        eprintln!("{n}");
    }
    Ok(embedder)
}

fn index(args: IndexArgs) -> Result<ExitCode> {
    let (embedder, notice) = load_embedder(&args.model)?;
    let opts = BuildOptions {
        walk: WalkOptions {
            include: args.include,
            exclude: args.exclude,
        },
        ingest: IngestOptions {
            max_file_bytes: args.max_file_mb.saturating_mul(1024 * 1024),
        },
        tokenizer: args.tokenizer,
        reembed: args.reembed,
        unit_vectors: match args.unit_vectors {
            crate::cli::UnitVectorsArg::Full => bubble_index::UnitCoverage::Full,
            crate::cli::UnitVectorsArg::Window => bubble_index::UnitCoverage::Window,
            crate::cli::UnitVectorsArg::Off => bubble_index::UnitCoverage::Off,
        },
        root: args.root,
        compact: args.compact,
        compaction: Default::default(),
        chunk_spans: None,
    };
    let mut bar = BuildBar::new();
    let report = match (&args.target.index, &args.target.store) {
        (_, Some(url)) => {
            if opts.compact || opts.reembed {
                bail!("--compact and --reembed are for index folders: a database store keeps no tombstones, and a new model needs a new database");
            }
            let store = bubble_postgres::Store::connect(url, 2)?;
            let pg = bubble_postgres::WriterOptions {
                ingest: opts.ingest.clone(),
                tokenizer: opts.tokenizer.clone(),
                unit_vectors: opts.unit_vectors,
                root: opts.root.clone(),
            };
            let mut writer = bubble_postgres::Writer::open(&store, &pg, embedder.as_ref())?;
            index_files(&mut writer, &args.paths, &opts, &mut |p| bar.update(p))
                .with_context(|| format!("indexing into {}", store.shown()))?
        }
        (Some(dir), None) => build(dir, &args.paths, &opts, embedder.as_ref(), &mut |p| {
            bar.update(p)
        })
        .with_context(|| format!("indexing into {}", dir.display()))?,
        (None, None) => bail!("give --index DIR or --store URL"),
    };
    bar.finish();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report_json(&report, notice))?
        );
    } else {
        print_report(&report, notice.as_deref());
    }
    Ok(if report.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_SKIPPED)
    })
}

fn report_json(r: &BuildReport, notice: Option<String>) -> serde_json::Value {
    serde_json::json!({
        "files_seen": r.files_seen, "added": r.added, "updated": r.updated,
        "removed": r.removed, "unchanged": r.unchanged, "ignored": r.ignored,
        "skipped": r.skipped.iter().map(|(p, why)| serde_json::json!({"path": p, "reason": why})).collect::<Vec<_>>(),
        "warnings": r.warnings.iter().map(|(p, w)| serde_json::json!({"path": p, "problem": w})).collect::<Vec<_>>(),
        "embedded": r.embedded, "committed": r.committed, "compacted": r.compacted,
        "seconds": {"total": r.total_seconds, "parse": r.parse_seconds, "embed": r.embed_seconds, "write": r.write_seconds},
        "manifest": r.manifest, "notice": notice,
    })
}

fn print_report(r: &BuildReport, notice: Option<&str>) {
    let counts = r
        .manifest
        .as_ref()
        .map(|m| m.counts.clone())
        .unwrap_or_default();
    println!(
        "{} files seen: {} added, {} updated, {} removed, {} unchanged, {} skipped",
        r.files_seen,
        r.added,
        r.updated,
        r.removed,
        r.unchanged,
        r.skipped.len()
    );
    println!(
        "index: {} files, {} documents, {} spans ({} retrievable, {} vectors), {} tokens",
        counts.files,
        counts.documents,
        counts.spans,
        counts.retrievable,
        counts.vectors,
        counts.tokens
    );
    let rate = if r.total_seconds > 0.0 {
        counts.spans as f64 / r.total_seconds
    } else {
        0.0
    };
    println!(
        "time: {:.2} s ({:.0} spans/s; parse {:.2} s, embed {:.2} s for {} spans, write {:.2} s){}",
        r.total_seconds,
        rate,
        r.parse_seconds,
        r.embed_seconds,
        r.embedded,
        r.write_seconds,
        match (r.committed, r.compacted) {
            (false, _) => "; nothing changed, nothing written",
            (true, true) => "; whole index written",
            (true, false) => "; changes appended",
        }
    );
    if !r.ignored.is_empty() {
        let shown: Vec<&str> = r.ignored.iter().take(5).map(String::as_str).collect();
        let more = r.ignored.len().saturating_sub(shown.len());
        println!(
            "ignored {} files of unsupported types: {}{}",
            r.ignored.len(),
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    for (p, why) in &r.skipped {
        println!("skipped {p}: {why}");
    }
    for (p, w) in &r.warnings {
        println!("warning {p}: {w}");
    }
    if let Some(n) = notice {
        println!("{n}");
    }
}

fn verify(dir: &std::path::Path) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let index = Index::open(dir)?;
    index.verify()?;
    let sums = &index.manifest().checksums;
    let bytes: u64 = sums.values().map(|s| s.bytes).sum();
    println!(
        "ok: {} files, {:.1} MB checked in {:.2} s (generation {})",
        sums.len(),
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        index.manifest().generation
    );
    Ok(ExitCode::SUCCESS)
}

fn search(args: SearchArgs) -> Result<ExitCode> {
    let opened = store::open(&args.source)?;
    let index = opened.as_ref();
    let mode = match args.mode {
        ModeArg::Bm25 => Mode::Bm25,
        ModeArg::Dense => Mode::Dense,
        ModeArg::Hybrid => Mode::Hybrid,
    };
    let wants_model = mode != Mode::Bm25 && index.manifest().embedding.is_some();
    let (embedder, _) = if wants_model {
        load_embedder(&args.model)?
    } else {
        (None, None)
    };
    let kinds = args
        .kind
        .iter()
        .map(|k| SpanKind::parse(k).with_context(|| format!("unknown span kind {k:?}")))
        .collect::<Result<Vec<_>>>()?;
    let mut req = SearchRequest::new(args.query.join(" "));
    req.mode = mode;
    req.k = args.k;
    req.depth = args.k.max(100);
    req.ef = args.ef;
    req.fusion = match args.fusion {
        FusionArg::Rrf => Fusion::Rrf { k: args.rrf_k },
        FusionArg::Weighted => Fusion::Weighted {
            dense_weight: args.dense_weight,
        },
    };
    req.filter = SpanFilter {
        paths: args.path,
        kinds,
    };
    let resp = Retriever::new(index, embedder.as_ref()).search(&req)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&resp)?);
        return Ok(ExitCode::SUCCESS);
    }
    for n in &resp.notices {
        eprintln!("{n}");
    }
    for (i, h) in resp.hits.iter().enumerate() {
        let channel = |c: &Option<bubble_retrieval::ChannelScore>| {
            c.map_or("-".to_string(), |c| {
                format!("#{} {:.3}", c.position, c.score)
            })
        };
        println!(
            "{:>2}. {:.4}  {}:{}-{}  [{}]  bm25 {}  dense {}",
            i + 1,
            h.score,
            h.source,
            h.line_range.0,
            h.line_range.1,
            h.kind,
            channel(&h.bm25),
            channel(&h.dense)
        );
        if !h.heading_path.is_empty() {
            println!("    {}", h.heading_path.join(" > "));
        }
        println!("    {}", ellipsize(&h.text, 240));
    }
    println!(
        "({} hits, {} mode, {:.1} ms)",
        resp.hits.len(),
        resp.mode.as_str(),
        resp.total_ms
    );
    Ok(ExitCode::SUCCESS)
}

fn ellipsize(s: &str, max_chars: usize) -> String {
    let flat = s.replace('\n', " ");
    match flat.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

fn context(args: ContextArgs) -> Result<ExitCode> {
    let opened = store::open(&args.source)?;
    let index = opened.as_ref();
    let wants_model = index.manifest().embedding.is_some();
    let (embedder, _) = if wants_model {
        load_embedder(&args.model)?
    } else {
        (None, None)
    };
    let tokenizer = args
        .tokenizer
        .clone()
        .unwrap_or_else(|| index.manifest().tokenizer.clone());
    let counter = bubble_index::bubble_ingest::TokenCounter::by_name(&tokenizer)?;
    let json = match bubble_assembly::pipelines::builtin(&args.pipeline) {
        Some(j) => j.to_string(),
        None => std::fs::read_to_string(&args.pipeline).with_context(|| {
            format!("pipeline {:?} is neither a shipped one (default, compressed, multihop, paper, topk) nor a readable file", args.pipeline)
        })?,
    };
    let pipeline = bubble_assembly::Pipeline::from_json(&json)?;
    let ranker = load_ranker(&args.model, embedder.as_ref())?;
    let ctx = bubble_assembly::Context {
        retriever: Retriever::new(index, embedder.as_ref()),
        counter: &counter,
        ranker: ranker.as_ref(),
    };
    let (out, trace) = bubble_assembly::assemble_with(
        &ctx,
        &pipeline,
        &args.query.join(" "),
        args.budget,
        args.fill,
    )?;
    if let Some(path) = &args.trace {
        std::fs::write(path, serde_json::to_vec_pretty(&trace)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    for n in &out.notices {
        eprintln!("{n}");
    }
    print!("{}", out.bubble.text);
    eprintln!(
        "({} of {} tokens, {} spans, trace {})",
        out.bubble.tokens,
        out.bubble.budget,
        out.spans.len(),
        out.trace_id
    );
    Ok(ExitCode::SUCCESS)
}

fn trace_show(file: &std::path::Path) -> Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let trace: bubble_assembly::Trace = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a Bubble trace", file.display()))?;
    print!("{}", trace.to_table());
    Ok(ExitCode::SUCCESS)
}
