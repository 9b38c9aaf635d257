//! Flags and subcommands.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Bubble: the best cited context for an LLM, in N tokens of its tokenizer.
#[derive(Debug, Parser)]
#[command(name = "bubble", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Index files and folders (Markdown, HTML, text, CSV/TSV, JSONL, .gz);
    /// re-running updates the index incrementally.
    Index(IndexArgs),
    /// Search an index.
    Search(SearchArgs),
    /// Check every block of an index against its checksums (opening and
    /// queries check only the blocks they read).
    Verify {
        /// The index folder.
        #[arg(long)]
        index: PathBuf,
    },
    /// Build a context bubble: the best cited context for a query within a
    /// token budget, with an audit trace.
    Context(ContextArgs),
    /// Inspect a trace written by `context --trace`.
    Trace {
        #[command(subcommand)]
        what: TraceCommand,
    },
    /// Serve the REST API over an index: context, search, traces, live
    /// document updates (see the README's API section).
    Serve(ServeArgs),
    /// Make an API key: prints the secret once, and the config entry that
    /// holds only its hash.
    Key(KeyArgs),
    /// Run a benchmark.
    Eval {
        #[command(subcommand)]
        what: EvalCommand,
    },
    /// Train a model Bubble uses.
    Train {
        #[command(subcommand)]
        what: TrainCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// The RankGen-style ranker's heads, on data never used for evaluation.
    Rank(TrainRankArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RankDataset {
    /// SciFact's training claims.
    Scifact,
    /// The training split of the Node.js documentation questions.
    Nodejs,
}

#[derive(Debug, Args)]
pub struct TrainRankArgs {
    /// Training data, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "scifact,nodejs"
    )]
    pub dataset: Vec<RankDataset>,
    /// Where to write the heads.
    #[arg(long, default_value = "assets/ranker/all-MiniLM-L6-v2.heads")]
    pub out: PathBuf,
    /// The SciFact CSV zip.
    #[arg(long, default_value = "../shared/data/scifact/scifact.zip")]
    pub scifact: PathBuf,
    /// The documentation folder.
    #[arg(long, default_value = "corpora/external/nodejs-18")]
    pub corpus: PathBuf,
    /// Its questions (the `train` split is used).
    #[arg(long, default_value = "corpora/nodejs-questions.jsonl")]
    pub queries: PathBuf,
    /// Passes over the examples.
    #[arg(long, default_value_t = 4)]
    pub epochs: usize,
    /// Seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Work folder with the evaluations' indexes (reused, built if missing).
    #[arg(long, default_value = ".bubble/eval")]
    pub work: PathBuf,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The index folder (created on the first upsert if missing), or
    /// `--store URL` (several servers may share one database).
    #[command(flatten)]
    pub source: crate::store::StoreArgs,
    /// Address to listen on (overrides the config's; default 127.0.0.1:7878).
    #[arg(long)]
    pub addr: Option<std::net::SocketAddr>,
    /// Configuration file (TOML: addr, limits, keys, caches).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Args)]
pub struct KeyArgs {
    /// The key's name, for logs.
    #[arg(long, default_value = "app")]
    pub name: String,
    /// What it may do (write implies read).
    #[arg(long, value_enum, default_value = "read")]
    pub scope: ScopeArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    Read,
    Write,
}

#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Folder with the embedding model and ONNX Runtime (default: $BUBBLE_MODELS,
    /// else the `models/` folder set up by scripts/setup).
    #[arg(long, global = true)]
    pub models: Option<PathBuf>,
    /// Do not load an embedding model: BM25 only.
    #[arg(long, global = true)]
    pub no_embed: bool,
    /// Threads for the embedding model.
    #[arg(long, global = true, default_value_t = 2)]
    pub threads: usize,
    /// Where the embedding model runs (cuda: a build with --features cuda,
    /// after scripts/setup --gpu).
    #[arg(long, global = true, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    /// The ranker's heads (default: the shipped assets/ranker/<model>.heads;
    /// `none`: score by the plain cosine).
    #[arg(long, global = true)]
    pub ranker: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UnitVectorsArg {
    Full,
    Window,
    Off,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DeviceArg {
    Cpu,
    Cuda,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Files or folders to index.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The index folder (created if missing), or `--store URL`.
    #[command(flatten)]
    pub target: crate::store::StoreArgs,
    /// For a new index: the folder file paths are recorded relative to
    /// (default: the working directory). An existing index keeps its own.
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Only index files matching this glob (relative to each path); repeatable.
    #[arg(long)]
    pub include: Vec<String>,
    /// Skip files matching this glob; repeatable.
    #[arg(long)]
    pub exclude: Vec<String>,
    /// Tokenizer for token counts: cl100k_base (default), o200k_base, or a tokenizer.json path.
    #[arg(long)]
    pub tokenizer: Option<String>,
    /// Skip files larger than this many MiB (after decompression).
    #[arg(long, default_value_t = 64)]
    pub max_file_mb: u64,
    /// Embed every span again (after changing the model).
    #[arg(long)]
    pub reembed: bool,
    /// Rewrite the whole index from scratch layout: drop tombstones of
    /// changed and removed files, fold appended vectors into one HNSW graph
    /// (commits also do this on their own past a threshold).
    #[arg(long)]
    pub compact: bool,
    /// Which compression units get vectors of their own: full (all; units past
    /// the model's window take a continuation pass), window (those inside it),
    /// off.
    #[arg(long, value_enum, default_value = "full")]
    pub unit_vectors: UnitVectorsArg,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    Bm25,
    Dense,
    Hybrid,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FusionArg {
    Rrf,
    Weighted,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The query.
    #[arg(required = true)]
    pub query: Vec<String>,
    /// The index folder, or `--store URL`.
    #[command(flatten)]
    pub source: crate::store::StoreArgs,
    /// Retrieval channels.
    #[arg(long, value_enum, default_value_t = ModeArg::Hybrid)]
    pub mode: ModeArg,
    /// Hits to show.
    #[arg(short, long, default_value_t = 10)]
    pub k: usize,
    /// Hybrid fusion.
    #[arg(long, value_enum, default_value_t = FusionArg::Rrf)]
    pub fusion: FusionArg,
    /// RRF rank constant.
    #[arg(long, default_value_t = 60.0)]
    pub rrf_k: f32,
    /// Dense weight for weighted fusion.
    #[arg(long, default_value_t = 0.5)]
    pub dense_weight: f32,
    /// HNSW search breadth.
    #[arg(long, default_value_t = 128)]
    pub ef: usize,
    /// Only spans of files matching this glob; repeatable.
    #[arg(long)]
    pub path: Vec<String>,
    /// Only spans of this kind (paragraph, list, code, row); repeatable.
    #[arg(long)]
    pub kind: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Args)]
pub struct ContextArgs {
    /// The query.
    #[arg(required = true)]
    pub query: Vec<String>,
    /// The index folder, or `--store URL`.
    #[command(flatten)]
    pub source: crate::store::StoreArgs,
    /// Token budget of the rendered bubble.
    #[arg(long)]
    pub budget: usize,
    /// Fill the budget: no relevance floor, the bubble stops only when
    /// nothing more fits (for broad questions that need many sources).
    #[arg(long)]
    pub fill: bool,
    /// A shipped pipeline (default, compressed, multihop, paper, topk) or a JSON pipeline file.
    #[arg(long, default_value = "default")]
    pub pipeline: String,
    /// Tokenizer the budget is counted in (default: the index's).
    #[arg(long)]
    pub tokenizer: Option<String>,
    /// Write the audit trace (JSON) to this file.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Print the bubble as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// A table of why each candidate is in or out.
    Show {
        /// The trace file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// nDCG@10, Recall@100, indexing throughput and latency on a BEIR dataset.
    Retrieval(EvalRetrievalArgs),
    /// Evidence coverage per token budget of each selection method (HotpotQA).
    Bubble(EvalBubbleArgs),
    /// The context-bubble paper's ablation (top-k to full bubble) on a corpus with gold queries.
    Ablation(EvalAblationArgs),
    /// Unit vectors on SciFact: index time with and without, and evidence-sentence recall.
    Units(EvalUnitsArgs),
    /// Compression methods under one hard budget (SQuAD, HotpotQA, SciFact).
    Compress(EvalCompressArgs),
    /// Passage in bubble on a documentation set (questions in the peers' format).
    Docs(EvalDocsArgs),
    /// How the index scales: build, open, search and one-file updates on
    /// generated corpora (BM25 only).
    Scale(EvalScaleArgs),
    /// The REST server under load (SciFact claims as queries): closed loop,
    /// open loop, mixed with upserts, against the same work in process.
    Load(EvalLoadArgs),
    /// The index folder and a PostgreSQL store side by side on SciFact:
    /// hybrid search and /v1/context latency, one store after the other.
    Backends(EvalBackendsArgs),
}

#[derive(Debug, Args)]
pub struct EvalLoadArgs {
    /// The SciFact index (`bubble eval retrieval --dataset scifact` builds
    /// it); copied into the work folder first, since the mixed run writes.
    #[arg(long, default_value = ".bubble/eval/scifact/index")]
    pub index: PathBuf,
    /// The SciFact export zip: its test and training claims are the queries.
    #[arg(long, default_value = "../shared/data/scifact/scifact.zip")]
    pub data: PathBuf,
    /// Work folder (the copied index).
    #[arg(long, default_value = ".bubble/load")]
    pub work: PathBuf,
    /// Concurrent clients (closed and mixed loops; senders of the open loop).
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Seconds per scenario.
    #[arg(long, default_value_t = 30.0)]
    pub seconds: f64,
    /// Requests per second of the open loop.
    #[arg(long, default_value_t = 50.0)]
    pub rate: f64,
    /// Share of the mixed loop's requests that are document upserts.
    #[arg(long, default_value_t = 0.1)]
    pub upserts: f64,
    /// Token budget of each context request.
    #[arg(long, default_value_t = 1024)]
    pub budget: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Args)]
pub struct EvalBackendsArgs {
    /// The SciFact index (`bubble eval retrieval --dataset scifact` builds it).
    #[arg(long, default_value = ".bubble/eval/scifact/index")]
    pub index: PathBuf,
    /// The PostgreSQL store holding the same corpus (`bubble eval
    /// retrieval --dataset scifact --store URL` builds it).
    #[arg(long)]
    pub store: String,
    /// The SciFact export zip: its test claims are searched, its test and
    /// training claims asked for context.
    #[arg(long, default_value = "../shared/data/scifact/scifact.zip")]
    pub data: PathBuf,
    /// Concurrent clients of the context loop.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Seconds of the context loop per store.
    #[arg(long, default_value_t = 20.0)]
    pub seconds: f64,
    /// Token budget of each context request.
    #[arg(long, default_value_t = 1024)]
    pub budget: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Args)]
pub struct EvalScaleArgs {
    /// Retrievable spans of each corpus, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    pub sizes: Vec<usize>,
    /// Queries timed per size.
    #[arg(long, default_value_t = 200)]
    pub queries: usize,
    /// One-file updates timed per size.
    #[arg(long, default_value_t = 20)]
    pub updates: usize,
    /// Give every block and unit a synthetic vector (a seeded function of
    /// its text, not the model) and time dense and hybrid search too.
    #[arg(long)]
    pub vectors: bool,
    /// Keep the indexes an earlier run built and time all but the build.
    #[arg(long)]
    pub reuse: bool,
    /// Work folder for corpora and indexes (corpora are kept).
    #[arg(long, default_value = ".bubble/scale")]
    pub work: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EvalDocsArgs {
    /// The documentation folder (scripts/fetch-nodejs-docs puts it here).
    #[arg(long, default_value = "corpora/external/nodejs-18")]
    pub corpus: PathBuf,
    /// Questions (JSONL: id, query, gold_snippet, gold_file, split[, alt_gold]).
    #[arg(long, default_value = "corpora/nodejs-questions.jsonl")]
    pub queries: PathBuf,
    /// Which questions: test, train or all.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Token budgets, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "256,512,1024")]
    pub budgets: Vec<usize>,
    /// Candidates retrieved per question.
    #[arg(long, default_value_t = 100)]
    pub depth: usize,
    /// More methods to compare: pipeline JSON files (their steps after a
    /// leading `retrieve` run on the shared candidate pool).
    #[arg(long = "pipeline")]
    pub pipelines: Vec<PathBuf>,
    /// Work folder for the index (reused).
    #[arg(long, default_value = ".bubble/eval")]
    pub work: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CompressDataset {
    Squad,
    Hotpotqa,
    Scifact,
}

#[derive(Debug, Args)]
pub struct EvalCompressArgs {
    /// The dataset.
    #[arg(long, value_enum)]
    pub dataset: CompressDataset,
    /// The dataset file (default: .bubble/data/squad.json, .bubble/data/hotpotqa.json,
    /// ../shared/data/scifact/scifact.zip).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Keep rates, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0.5,0.25,0.125")]
    pub rates: Vec<f32>,
    /// Questions (claims) evaluated, at most (default: 2000 for SQuAD, 1000 for HotpotQA, all for SciFact).
    #[arg(long)]
    pub questions: Option<usize>,
    /// Extra compress parameters for the MIG runs, as JSON members (e.g. '"temperature": 0.2').
    #[arg(long, default_value = "")]
    pub mig_params: String,
    /// Work folder for corpora and indexes (reused).
    #[arg(long, default_value = ".bubble/eval")]
    pub work: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Args)]
pub struct EvalUnitsArgs {
    /// The SciFact CSV zip.
    #[arg(long, default_value = "../shared/data/scifact/scifact.zip")]
    pub data: PathBuf,
    /// Work folder (its two indexes are rebuilt on every run unless --reuse).
    #[arg(long, default_value = ".bubble/eval")]
    pub work: PathBuf,
    /// Reuse the index with unit vectors: quality only, no timed builds.
    #[arg(long)]
    pub reuse: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Args)]
pub struct EvalAblationArgs {
    /// The corpus folder.
    #[arg(long, default_value = "corpora/acme")]
    pub corpus: PathBuf,
    /// Gold queries.
    #[arg(long, default_value = "corpora/acme-queries.jsonl")]
    pub queries: PathBuf,
    /// Token budget.
    #[arg(long, default_value_t = 800)]
    pub budget: usize,
    /// Work folder for the index.
    #[arg(long, default_value = ".bubble/eval")]
    pub work: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BubbleDataset {
    Hotpotqa,
}

#[derive(Debug, Args)]
pub struct EvalBubbleArgs {
    /// The dataset.
    #[arg(long, value_enum)]
    pub dataset: BubbleDataset,
    /// The HotpotQA JSON (scripts/fetch-eval-data puts it here).
    #[arg(long, default_value = ".bubble/data/hotpotqa.json")]
    pub data: PathBuf,
    /// Questions evaluated; their paragraphs are pooled into one corpus.
    #[arg(long, default_value_t = 1000)]
    pub questions: usize,
    /// Token budgets, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "128,256,512,1024")]
    pub budgets: Vec<usize>,
    /// Candidates retrieved per question.
    #[arg(long, default_value_t = 200)]
    pub depth: usize,
    /// Work folder for the pooled corpus and the reusable index.
    #[arg(long, default_value = ".bubble/eval")]
    pub work: PathBuf,
    /// Hold the corpus in this PostgreSQL database instead of an index folder.
    #[arg(long)]
    pub store: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Dataset {
    Scifact,
}

#[derive(Debug, Args)]
pub struct EvalRetrievalArgs {
    /// The dataset.
    #[arg(long, value_enum)]
    pub dataset: Dataset,
    /// The dataset file (SciFact: the CSV zip).
    #[arg(long, default_value = "../shared/data/scifact/scifact.zip")]
    pub data: PathBuf,
    /// Work folder for the converted corpus and the reusable index.
    #[arg(long, default_value = ".bubble/eval")]
    pub work: PathBuf,
    /// Also measure weighted fusion with this dense weight.
    #[arg(long, default_value_t = 0.5)]
    pub dense_weight: f32,
    /// The ranker's weight in the `rerank` mode (the weighted hybrid's top
    /// 100 reranked; measured when ranker heads are found).
    #[arg(long, default_value_t = 0.5)]
    pub ranker_weight: f32,
    /// Hold the corpus in this PostgreSQL database instead of an index folder.
    #[arg(long)]
    pub store: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}
