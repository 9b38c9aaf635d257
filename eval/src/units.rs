//! What unit vectors cost and how good they are, on SciFact.
//!
//! Cost: the corpus is indexed three times into fresh folders in one run —
//! without unit vectors, with those inside the model's window, with all of
//! them — and the build times are compared as ratios.
//! Quality: for every test claim with sentence rationales, the sentences of
//! each evidence abstract are ranked by cosine to the claim, and recall@k is
//! the share of evidence sentences among the top k of their abstract. The
//! ranking is measured four ways: the stored unit vectors of both indexes
//! (pooled from the abstract's own forward pass, half precision), all of
//! them pooled afresh in full precision, and every sentence embedded on its
//! own (the second encoder pass that pooling avoids).

use crate::metrics::mean;
use crate::scifact::SciFact;
use crate::EvalError;
use bubble_index::{build, dot, BuildOptions, Embedder, Index, Progress, UnitCoverage, UnitText};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Instant;

/// Where and how to run.
#[derive(Debug, Clone)]
pub struct UnitEvalOptions {
    /// Folder for the corpus and the two indexes (rebuilt on every run).
    pub work_dir: PathBuf,
    /// Skip the two timed builds and reuse the index with unit vectors.
    pub reuse: bool,
}

/// Recall of evidence sentences inside their abstract, one way of ranking.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RankingRow {
    /// How sentences were ranked.
    pub method: String,
    /// Evidence sentences ranked first in their abstract.
    pub recall_at_1: f64,
    /// Evidence sentences among the top 3.
    pub recall_at_3: f64,
}

/// The result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnitEval {
    /// Seconds to index without unit vectors (0 when reused).
    pub plain_seconds: f64,
    /// Seconds to index with the unit vectors inside the model's window (0 when reused).
    pub window_seconds: f64,
    /// Seconds to index with every unit vector (0 when reused).
    pub units_seconds: f64,
    /// `window_seconds / plain_seconds`.
    pub window_ratio: f64,
    /// `units_seconds / plain_seconds`.
    pub ratio: f64,
    /// Unit vectors stored.
    pub unit_vectors: usize,
    /// Blocks embedded.
    pub blocks: usize,
    /// (claim, evidence sentence) pairs scored.
    pub evidence: usize,
    /// Mean sentences per evidence abstract (recall@3 by chance is 3 / this).
    pub sentences_per_abstract: f64,
    /// One row per ranking.
    pub rows: Vec<RankingRow>,
}

impl UnitEval {
    /// A Markdown table.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        if self.plain_seconds > 0.0 {
            s += &format!(
                "indexing SciFact ({} unit vectors for {} blocks): {:.1} s without unit vectors, \
                 {:.1} s with those inside the window ({:.3}x), {:.1} s with all ({:.3}x)\n\n",
                self.unit_vectors,
                self.blocks,
                self.plain_seconds,
                self.window_seconds,
                self.window_ratio,
                self.units_seconds,
                self.ratio
            );
        }
        s += &format!(
            "{} evidence sentences, {:.1} sentences per abstract\n\n| sentence vectors | recall@1 | recall@3 |\n|---|---|---|\n",
            self.evidence, self.sentences_per_abstract
        );
        for r in &self.rows {
            s += &format!(
                "| {} | {:.3} | {:.3} |\n",
                r.method, r.recall_at_1, r.recall_at_3
            );
        }
        s
    }
}

/// Runs the unit-vector benchmark.
pub fn run_units(
    data: &SciFact,
    opts: &UnitEvalOptions,
    embedder: &Embedder,
    progress: &mut dyn FnMut(Progress),
) -> Result<UnitEval, EvalError> {
    let corpus = opts.work_dir.join("corpus.jsonl");
    data.write_jsonl(&corpus)?;
    let units_dir = opts.work_dir.join("with-units");
    let window_dir = opts.work_dir.join("window-units");
    let mut seconds = [0.0f64; 3];
    if !opts.reuse || !units_dir.exists() || !window_dir.exists() {
        let plain_dir = opts.work_dir.join("without-units");
        let runs = [
            (&plain_dir, UnitCoverage::Off),
            (&window_dir, UnitCoverage::Window),
            (&units_dir, UnitCoverage::Full),
        ];
        for ((dir, coverage), secs) in runs.into_iter().zip(&mut seconds) {
            if dir.exists() {
                std::fs::remove_dir_all(dir).map_err(|source| EvalError::Io {
                    path: dir.clone(),
                    source,
                })?;
            }
            let build_opts = BuildOptions {
                unit_vectors: coverage,
                ..BuildOptions::default()
            };
            let t = Instant::now();
            build(
                dir,
                std::slice::from_ref(&corpus),
                &build_opts,
                Some(embedder),
                progress,
            )?;
            *secs = t.elapsed().as_secs_f64();
        }
    }
    let [plain_seconds, window_seconds, units_seconds] = seconds;
    let window = Index::open(&window_dir)?;
    let index = Index::open(&units_dir)?;
    let evidence = evidence_abstracts(data, &index);
    let mut ranked: [(Vec<f64>, Vec<f64>); 4] = Default::default();
    let mut sizes = Vec::new();
    let claims: HashMap<&str, &str> = data
        .queries
        .iter()
        .map(|q| (q.id.as_str(), q.text.as_str()))
        .collect();
    for e in &evidence {
        let Some(claim) = claims.get(e.claim.as_str()) else {
            continue;
        };
        let q = embedder.embed_query(claim)?;
        let [stored, full, alone] = sentence_vectors(&index, embedder, e)?;
        // The same block in the window-only index (same span ids).
        let in_window = window
            .store()
            .span(e.block)
            .and_then(|s| window.store().ord_of(&s.id.0))
            .map(|block| sentence_vectors(&window, embedder, &Evidence { block, ..e.clone() }))
            .transpose()?
            .map(|[w, _, _]| w)
            .unwrap_or_default();
        sizes.push(e.sentences.len() as f64);
        for (k, vectors) in [stored, in_window, full, alone].iter().enumerate() {
            let scores: Vec<f32> = vectors.iter().map(|v| dot(&q, v)).collect();
            for &gold in &e.gold {
                // Ties count against: a unit standing in with its block's
                // vector ties with every other such unit.
                let better = (0..scores.len())
                    .filter(|&k| k != gold && scores[k] >= scores[gold])
                    .count();
                ranked[k].0.push(f64::from(u8::from(better < 1)));
                ranked[k].1.push(f64::from(u8::from(better < 3)));
            }
        }
    }
    let names = [
        "pooled from the abstract's pass (stored, f16)",
        "pooled inside the window only (stored, f16)",
        "pooled from the abstract's pass (f32)",
        "each sentence embedded alone",
    ];
    let rows = names
        .iter()
        .zip(&ranked)
        .map(|(n, (r1, r3))| RankingRow {
            method: n.to_string(),
            recall_at_1: mean(r1),
            recall_at_3: mean(r3),
        })
        .collect();
    let counts = &index.manifest().counts;
    let ratio = |x: f64| {
        if plain_seconds > 0.0 {
            x / plain_seconds
        } else {
            0.0
        }
    };
    Ok(UnitEval {
        plain_seconds,
        window_seconds,
        units_seconds,
        window_ratio: ratio(window_seconds),
        ratio: ratio(units_seconds),
        unit_vectors: counts.unit_vectors,
        blocks: counts.vectors,
        evidence: ranked[0].1.len(),
        sentences_per_abstract: mean(&sizes),
        rows,
    })
}

/// One evidence abstract of one claim, as indexed.
#[derive(Clone)]
struct Evidence {
    claim: String,
    /// The abstract's block.
    block: u32,
    /// The dataset's sentences with their byte ranges in the block text.
    sentences: Vec<Range<usize>>,
    /// Indexes of the evidence sentences.
    gold: Vec<usize>,
}

/// Every (claim, abstract) rationale whose abstract is one indexed block.
fn evidence_abstracts(data: &SciFact, index: &Index) -> Vec<Evidence> {
    let store = index.store();
    // Abstracts that are one block (all of SciFact's).
    let block_of: HashMap<String, u32> = crate::blocks_by_record(index)
        .into_iter()
        .filter_map(|(r, b)| match b.as_slice() {
            [one] => Some((r, *one)),
            _ => None,
        })
        .collect();
    let docs = data.docs_by_id();
    let mut out = Vec::new();
    for (claim, rationales) in &data.rationales.0 {
        for (doc_id, gold) in rationales {
            let (Some(&block), Some(doc)) =
                (block_of.get(doc_id.as_str()), docs.get(doc_id.as_str()))
            else {
                continue;
            };
            let Some(text) = store.span(block).map(|s| s.text) else {
                continue;
            };
            let mut pos = 0;
            let mut sentences = Vec::new();
            for s in &doc.sentences {
                let s = s.trim();
                let start = text
                    .get(pos..)
                    .and_then(|t| t.find(s))
                    .map_or(pos, |i| i + pos);
                sentences.push(start..start + s.len());
                pos = start + s.len();
            }
            out.push(Evidence {
                claim: claim.clone(),
                block,
                sentences,
                gold: gold.clone(),
            });
        }
    }
    out
}

/// Each dataset sentence's vector three ways: the best stored unit vector
/// overlapping it, the same pooled afresh in f32, and the sentence alone
/// (with its title, the context every indexed text is embedded with).
fn sentence_vectors(
    index: &Index,
    embedder: &Embedder,
    e: &Evidence,
) -> Result<[Vec<Vec<f32>>; 3], EvalError> {
    let store = index.store();
    let units_store = index.unit_vectors();
    let block = store.span(e.block).map(|s| s.text).unwrap_or_default();
    let title = store.doc_of(e.block).map(|d| d.title).unwrap_or_default();
    let unit_ords = store.units_of(e.block);
    let unit_ranges = store.unit_ranges(e.block, &unit_ords);
    let mut stored: Vec<Vec<f32>> = Vec::new();
    for &u in &unit_ords {
        let mut v = Vec::new();
        if let Some(us) = units_store {
            us.extend_f32(u, &mut v);
        }
        stored.push(v);
    }
    let fresh = embedder
        .embed_units(
            &[UnitText {
                context: title.to_string(),
                text: block.to_string(),
                units: unit_ranges.clone(),
            }],
            true,
        )?
        .pop()
        .map(|x| x.units)
        .unwrap_or_default();
    // A sentence takes the unit overlapping it most (a clause of a long
    // sentence, or the unit that holds a sentence the splitter did not cut).
    let pick = |vectors: &[Vec<f32>], s: &Range<usize>| -> Vec<f32> {
        let best = unit_ranges
            .iter()
            .enumerate()
            .max_by_key(|(i, r)| (overlap(r, s), std::cmp::Reverse(*i)))
            .map(|(i, _)| i);
        best.and_then(|i| vectors.get(i).cloned())
            .unwrap_or_default()
    };
    let alone_texts: Vec<String> = e
        .sentences
        .iter()
        .map(|s| format!("{title}: {}", block.get(s.clone()).unwrap_or("")))
        .collect();
    let alone = embedder.embed(&alone_texts)?;
    Ok([
        e.sentences.iter().map(|s| pick(&stored, s)).collect(),
        e.sentences.iter().map(|s| pick(&fresh, s)).collect(),
        alone,
    ])
}

fn overlap(a: &Range<usize>, b: &Range<usize>) -> usize {
    a.end.min(b.end).saturating_sub(a.start.max(b.start))
}
