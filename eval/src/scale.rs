//! How the index scales: a synthetic Markdown corpus, generated
//! deterministically at each requested size, is built BM25-only, then
//! opened, searched and updated one file at a time through the writer,
//! the way a live service would.
//!
//! The corpus: files of 10 sections × 5 paragraphs (50 retrievable blocks
//! each, plus their sections and sentences), words drawn from a fixed
//! 20,000-word vocabulary with a Zipf-like skew, so posting lists have the
//! long tail of real text. With `vectors`, every block and unit gets a
//! *synthetic* 384-dimensional vector (a seeded function of its text,
//! `Embedder::synthetic`): the storage, graph and search costs of real
//! vectors without the hours the model would take; its quality means
//! nothing (that is measured on real text by `eval retrieval`).

use crate::EvalError;
use bubble_index::{
    build, BuildOptions, BuildReport, Compaction, Corpus, Embedder, Index, Restriction, Writer,
};
use bubble_rank::SplitMix64;
use bubble_retrieval::{Mode, Retriever, SearchRequest};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Retrievable blocks per generated file.
const BLOCKS_PER_FILE: usize = 50;
const VOCABULARY: usize = 20_000;

/// What to measure.
#[derive(Debug, Clone)]
pub struct ScaleOptions {
    /// Retrievable spans of each corpus (rounded up to whole files).
    pub sizes: Vec<usize>,
    /// Work folder: corpora and indexes (kept between runs, rebuilt each run).
    pub work_dir: PathBuf,
    /// Queries timed per size.
    pub queries: usize,
    /// One-file updates timed per size.
    pub updates: usize,
    /// Give blocks and units synthetic vectors, and time dense and hybrid search.
    pub vectors: bool,
    /// Keep an index a previous run built for the same size, and time
    /// everything but the build (whose row fields are then 0).
    pub reuse: bool,
}

/// One corpus size's numbers.
#[derive(Debug, Clone, Serialize)]
pub struct ScaleRow {
    /// Retrievable spans indexed.
    pub retrievable: usize,
    /// Spans of every kind.
    pub spans: usize,
    /// Files.
    pub files: usize,
    /// Full build, seconds.
    pub build_seconds: f64,
    /// Retrievable spans per second of the full build.
    pub spans_per_second: f64,
    /// Peak resident memory of the build, MiB (VmHWM, reset before it).
    pub build_peak_mib: f64,
    /// Index size on disk per retrievable span, bytes.
    pub disk_bytes_per_span: f64,
    /// Opening the index and answering one BM25 query, ms.
    pub open_ms: f64,
    /// Opening the index afresh and answering one hybrid query (every
    /// graph walked, its blocks checked on first read), ms; with vectors only.
    pub open_hybrid_ms: Option<f64>,
    /// BM25 top-10 latency, median, ms.
    pub bm25_p50_ms: f64,
    /// Dense top-10 latency (HNSW, ef 128), median, ms; with vectors only.
    pub dense_p50_ms: Option<f64>,
    /// Hybrid (RRF of both top 100) latency, median, ms; with vectors only.
    pub hybrid_p50_ms: Option<f64>,
    /// One-file update (upsert + commit, durable), median, ms.
    pub update_p50_ms: f64,
    /// Slowest one-file update, ms.
    pub update_max_ms: f64,
}

/// Every size's row.
#[derive(Debug, Clone, Serialize)]
pub struct ScaleResult {
    /// By size, smallest first.
    pub rows: Vec<ScaleRow>,
}

impl ScaleResult {
    /// A Markdown table.
    pub fn to_table(&self) -> String {
        let mut out = String::from(
            "| retrievable spans | spans | files | build s | spans/s | build peak MiB | disk B/span | open+first answer ms | open+first hybrid ms | BM25 p50 ms | dense p50 ms | hybrid p50 ms | 1-file update p50 ms (max) |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for r in &self.rows {
            out.push_str(&format!(
                "| {} | {} | {} | {:.1} | {:.0} | {:.0} | {:.0} | {:.1} | {} | {:.2} | {} | {} | {:.1} ({:.1}) |\n",
                r.retrievable,
                r.spans,
                r.files,
                r.build_seconds,
                r.spans_per_second,
                r.build_peak_mib,
                r.disk_bytes_per_span,
                r.open_ms,
                r.open_hybrid_ms.map_or("–".into(), |x| format!("{x:.1}")),
                r.bm25_p50_ms,
                r.dense_p50_ms.map_or("–".into(), |x| format!("{x:.2}")),
                r.hybrid_p50_ms.map_or("–".into(), |x| format!("{x:.2}")),
                r.update_p50_ms,
                r.update_max_ms
            ));
        }
        out
    }
}

/// A word index skewed towards small ones (the square of a uniform draw:
/// frequent words are frequent, the tail is long).
fn skewed_word(rng: &mut SplitMix64) -> usize {
    let u = rng.unit();
    ((u * u) * VOCABULARY as f64) as usize
}

/// Vocabulary word `i`: a pronounceable, unique token.
fn word(i: usize) -> String {
    const SYLLABLES: [&str; 20] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "po", "da", "fe", "gu", "ha", "ji",
        "ko", "la", "mo", "nu", "ri",
    ];
    let mut n = i;
    let mut w = String::new();
    loop {
        w.push_str(SYLLABLES[n % 20]);
        n /= 20;
        if n == 0 {
            break;
        }
    }
    w
}

fn sentence(rng: &mut SplitMix64) -> String {
    let len = 8 + rng.below(12);
    let words: Vec<String> = (0..len).map(|_| word(skewed_word(rng))).collect();
    let mut s = words.join(" ");
    if let Some(first) = s.get(..1) {
        s = first.to_uppercase() + &s[1..];
    }
    s + "."
}

/// The text of generated file `i`, revision `rev` (0 at build time).
fn file_text(i: usize, rev: u64) -> String {
    let mut rng = SplitMix64((i as u64) << 20 | rev);
    let mut out = format!("# Handbook page {i}\n\n");
    for section in 0..BLOCKS_PER_FILE / 5 {
        out.push_str(&format!(
            "## {} {}\n\n",
            word(skewed_word(&mut rng)),
            section
        ));
        for _ in 0..5 {
            let n = 1 + rng.below(3);
            let para: Vec<String> = (0..n).map(|_| sentence(&mut rng)).collect();
            out.push_str(&para.join(" "));
            out.push_str("\n\n");
        }
    }
    out
}

fn file_name(i: usize) -> String {
    format!("page-{:03}/{i:07}.md", i / 1000)
}

/// Writes the corpus of `files` files under `dir` (kept if already there).
fn write_corpus(dir: &Path, files: usize) -> Result<(), EvalError> {
    let io = |path: &Path, source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let marker = dir.join(format!(".complete-{files}"));
    if marker.exists() {
        return Ok(());
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    for i in 0..files {
        let path = dir.join(file_name(i));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        std::fs::write(&path, file_text(i, 0)).map_err(|e| io(&path, e))?;
    }
    std::fs::write(&marker, b"").map_err(|e| io(&marker, e))
}

/// Resets the process's peak RSS (Linux: `clear_refs` 5), so the next
/// reading is the peak of what follows.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory since the last reset, MiB (0 where unknown).
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

fn median(mut xs: Vec<f64>) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Query `q`: three vocabulary words, frequent and rare mixed.
fn query(q: usize) -> String {
    let mut rng = SplitMix64(0xC0FFEE ^ q as u64);
    (0..3)
        .map(|_| word(skewed_word(&mut rng)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Builds, opens, searches and updates each size in turn.
pub fn run(opts: &ScaleOptions) -> Result<ScaleResult, EvalError> {
    let synthetic = opts.vectors.then(|| Embedder::synthetic(384));
    let embedder = synthetic.as_ref();
    let mut rows = Vec::new();
    for &size in &opts.sizes {
        let files = size.div_ceil(BLOCKS_PER_FILE).max(1);
        let corpus = opts.work_dir.join(format!("corpus-{files}"));
        write_corpus(&corpus, files)?;
        let kind = if opts.vectors { "vectors" } else { "bm25" };
        let index_dir = opts.work_dir.join(format!("index-{files}-{kind}"));
        let reused = opts.reuse && index_dir.join("CURRENT").exists();
        if index_dir.exists() && !reused {
            std::fs::remove_dir_all(&index_dir).map_err(|source| EvalError::Io {
                path: index_dir.clone(),
                source,
            })?;
        }
        let build_opts = BuildOptions {
            root: Some(corpus.clone()),
            ..BuildOptions::default()
        };
        let (build_seconds, build_peak_mib) = if reused {
            (0.0, 0.0)
        } else {
            reset_peak();
            let t = Instant::now();
            build(
                &index_dir,
                std::slice::from_ref(&corpus),
                &build_opts,
                embedder,
                &mut |_| {},
            )?;
            (t.elapsed().as_secs_f64(), peak_mib())
        };

        let t = Instant::now();
        let index = Index::open(&index_dir)?;
        index.bm25(&query(0), 10, &Restriction::default())?;
        let open_ms = ms(t);
        drop(index);
        let t = Instant::now();
        let index = Index::open(&index_dir)?;
        let open_hybrid_ms = match embedder {
            Some(_) => {
                Retriever::new(&index, embedder).search(&SearchRequest::new(query(0)))?;
                Some(ms(t))
            }
            None => None,
        };
        let mut lat = Vec::with_capacity(opts.queries);
        for q in 1..=opts.queries {
            let t = Instant::now();
            index.bm25(&query(q), 10, &Restriction::default())?;
            lat.push(ms(t));
        }
        let latency = |mode: Mode| -> Result<f64, EvalError> {
            let retriever = Retriever::new(&index, embedder);
            let mut lat = Vec::with_capacity(opts.queries);
            for q in 1..=opts.queries {
                let req = SearchRequest {
                    mode,
                    ..SearchRequest::new(query(q))
                };
                let t = Instant::now();
                retriever.search(&req)?;
                lat.push(ms(t));
            }
            Ok(median(lat))
        };
        let (dense_p50_ms, hybrid_p50_ms) = match embedder {
            Some(_) => (Some(latency(Mode::Dense)?), Some(latency(Mode::Hybrid)?)),
            None => (None, None),
        };
        let counts = index.manifest().counts.clone();
        // Versions no earlier run committed, so a reused index changes too.
        let version = index.manifest().generation * opts.updates as u64;
        drop(index);

        // The writer a server keeps: commits append, and compaction is the
        // server's to schedule (timed apart: it is a rewrite, the build's cost).
        let live = BuildOptions {
            compaction: Compaction {
                automatic: false,
                ..Compaction::default()
            },
            ..build_opts
        };
        let mut writer = Writer::open(&index_dir, &live, embedder)?;
        let mut updates = Vec::with_capacity(opts.updates);
        let mut report = BuildReport::default();
        for u in 0..opts.updates {
            let i = (u * 7919) % files;
            let text = file_text(i, version + u as u64 + 1);
            let t = Instant::now();
            writer.upsert(&file_name(i), text.as_bytes())?;
            writer.commit(&mut report, &mut |_| {})?;
            updates.push(ms(t));
        }
        drop(writer);

        rows.push(ScaleRow {
            retrievable: counts.retrievable,
            spans: counts.spans,
            files: counts.files,
            build_seconds,
            spans_per_second: counts.retrievable as f64 / build_seconds.max(1e-9),
            build_peak_mib,
            disk_bytes_per_span: dir_bytes(&index_dir) as f64 / counts.retrievable.max(1) as f64,
            open_ms,
            open_hybrid_ms,
            bm25_p50_ms: median(lat),
            dense_p50_ms,
            hybrid_p50_ms,
            update_p50_ms: median(updates.clone()),
            update_max_ms: updates.iter().copied().fold(0.0, f64::max),
        });
    }
    Ok(ScaleResult { rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_is_deterministic_and_sized() {
        assert_eq!(file_text(3, 0), file_text(3, 0));
        assert_ne!(file_text(3, 0), file_text(3, 1));
        assert_ne!(word(1), word(21));
        let dir = tempfile::tempdir().unwrap();
        let result = run(&ScaleOptions {
            sizes: vec![200],
            work_dir: dir.path().to_path_buf(),
            queries: 3,
            updates: 2,
            vectors: true,
            reuse: false,
        })
        .unwrap();
        let row = &result.rows[0];
        assert_eq!(row.files, 4);
        assert_eq!(row.retrievable, 200, "{row:?}");
        assert!(row.update_p50_ms > 0.0);
        assert!(row.dense_p50_ms.is_some() && row.hybrid_p50_ms.is_some());
        assert!(result.to_table().contains("| 200 |"));
    }
}
