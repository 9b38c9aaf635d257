//! The bubble benchmark: how well each selection method packs the evidence
//! of multi-hop questions into a token budget (HotpotQA), and the paper's
//! ablation on the shipped corpus.
//!
//! Retrieval runs once per question; every method and budget then starts
//! from a copy of the same candidate pool, so the comparison isolates the
//! selection step.

use crate::hotpotqa::{HotpotQa, Question};
use crate::metrics::{mean, percentile};
use crate::retrieval::IndexingStats;
use crate::EvalError;
use bubble_assembly::{Context, Pipeline, QueryState};
use bubble_index::{Corpus, Embedder, Progress};
use bubble_retrieval::Retriever;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::PathBuf;

/// The methods compared, as the pipeline steps that follow retrieval.
/// `default` and `multihop` are the shipped pipelines' own steps, and
/// `sentences` is `default` on sentence units (no neighbours: a sentence's
/// neighbours are its block's other sentences); `default` runs first, so it
/// pays for the cold caches a real request meets after retrieval;
/// `compressed` is the shipped compressed pipeline (a bubble for three times
/// the budget, compressed into it by MIG).
pub fn methods() -> Result<Vec<(&'static str, String)>, EvalError> {
    Ok(vec![
        ("default", crate::shipped_steps("default", 1)?),
        (
            "top-k",
            r#"[{"op": "bubble", "mode": "top_k"}, {"op": "render"}]"#.into(),
        ),
        (
            "mmr",
            r#"[{"op": "bubble", "mode": "mmr", "lambda": 0.5}, {"op": "render"}]"#.into(),
        ),
        (
            "paper",
            r#"[{"op": "bubble", "mode": "paper"}, {"op": "render"}]"#.into(),
        ),
        ("sentences", crate::shipped_on_sentences("default")?),
        ("multihop", crate::shipped_steps("multihop", 1)?),
        ("compressed", crate::shipped_steps("compressed", 1)?),
    ])
}

/// Where and how to run.
#[derive(Debug, Clone)]
pub struct BubbleEvalOptions {
    /// Folder for the pooled corpus and the reusable index.
    pub work_dir: PathBuf,
    /// Questions evaluated (their paragraphs are pooled into one corpus).
    pub questions: usize,
    /// Token budgets.
    pub budgets: Vec<usize>,
    /// Candidates retrieved per question.
    pub depth: usize,
    /// A PostgreSQL database to hold the corpus instead of an index folder.
    pub store: Option<String>,
}

/// One method at one budget.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MethodRow {
    /// Method name.
    pub method: String,
    /// Token budget.
    pub budget: usize,
    /// Share of questions with both gold paragraphs covered (all their
    /// supporting sentences in the bubble).
    pub both_gold: f64,
    /// Share of supporting sentences in the bubble.
    pub sentence_recall: f64,
    /// Mean tokens of the rendered bubble.
    pub tokens: f64,
    /// Mean distinct documents in the bubble.
    pub documents: f64,
    /// Mean lexical overlap of a span with the rest of its bubble (the paper's measure).
    pub overlap: f64,
    /// Median milliseconds of the selection step (the bubble and compress operators).
    pub select_p50_ms: f64,
}

/// The HotpotQA result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BubbleEval {
    /// Questions evaluated.
    pub questions: usize,
    /// Paragraphs in the pooled corpus.
    pub paragraphs: usize,
    /// Candidates retrieved per question.
    pub depth: usize,
    /// Share of questions whose gold paragraphs are all among the candidates
    /// (a ceiling for every selection method).
    pub pool_both_gold: f64,
    /// Indexing statistics.
    pub indexing: IndexingStats,
    /// One row per method and budget.
    pub rows: Vec<MethodRow>,
    /// Notices.
    pub notices: Vec<String>,
}

impl BubbleEval {
    /// A Markdown table.
    pub fn to_table(&self) -> String {
        let mut s = format!(
            "hotpotqa: {} questions, {} pooled paragraphs, {} candidates per question \
             (both gold paragraphs among them: {:.3})\n\n\
             | budget | method | both gold | sentence recall | tokens | documents | overlap | select p50 ms |\n\
             |---|---|---|---|---|---|---|---|\n",
            self.questions, self.paragraphs, self.depth, self.pool_both_gold
        );
        for r in &self.rows {
            s += &format!(
                "| {} | {} | {:.3} | {:.3} | {:.0} | {:.2} | {:.3} | {:.2} |\n",
                r.budget,
                r.method,
                r.both_gold,
                r.sentence_recall,
                r.tokens,
                r.documents,
                r.overlap,
                r.select_p50_ms
            );
        }
        for n in &self.notices {
            s += &format!("note: {n}\n");
        }
        s
    }
}

/// Normalised text for containment checks: whitespace collapsed.
pub(crate) fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Mean over spans of |words(x) ∩ words(rest)| / |words(x)|.
pub fn mean_overlap(texts: &[impl AsRef<str>]) -> f64 {
    let sets: Vec<HashSet<String>> = texts
        .iter()
        .map(|t| {
            t.as_ref()
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect()
        })
        .collect();
    let per: Vec<f64> = (0..sets.len())
        .filter(|&i| !sets[i].is_empty())
        .map(|i| {
            let shared = sets[i]
                .iter()
                .filter(|w| {
                    sets.iter()
                        .enumerate()
                        .any(|(j, s)| j != i && s.contains(*w))
                })
                .count();
            shared as f64 / sets[i].len() as f64
        })
        .collect();
    mean(&per)
}

struct Scored {
    both_gold: bool,
    supporting_found: usize,
    supporting_total: usize,
    tokens: usize,
    documents: usize,
    overlap: f64,
    select_ms: f64,
}

fn score(q: &Question, state: &QueryState, index: &dyn Corpus) -> Scored {
    let text = norm(state.rendered.as_ref().map_or("", |r| r.text.as_str()));
    let store = index;
    let mut found = 0;
    let mut total = 0;
    let mut covered_titles = 0;
    for title in q.gold_titles() {
        let Some(p) = q.paragraphs.iter().find(|p| p.title == title) else {
            continue;
        };
        let mut all = true;
        for (_, i) in q.supporting.iter().filter(|(t, _)| *t == title) {
            let Some(sentence) = p
                .sentences
                .get(*i)
                .map(|s| norm(s))
                .filter(|s| !s.is_empty())
            else {
                continue;
            };
            total += 1;
            if text.contains(&sentence) {
                found += 1;
            } else {
                all = false;
            }
        }
        covered_titles += usize::from(all);
    }
    let docs: HashSet<&str> = state
        .selected
        .iter()
        .map(|&i| state.candidates[i].doc_id.as_str())
        .collect();
    let texts: Vec<String> = state
        .selected
        .iter()
        .filter_map(|&i| store.span(state.candidates[i].ord).map(|s| s.text))
        .collect();
    Scored {
        both_gold: covered_titles >= q.gold_titles().len().min(2) && covered_titles > 0,
        supporting_found: found,
        supporting_total: total,
        tokens: state.rendered.as_ref().map_or(0, |r| r.tokens),
        documents: docs.len(),
        overlap: mean_overlap(&texts),
        select_ms: state
            .ops
            .iter()
            .filter(|o| o.op == "bubble" || o.op == "compress")
            .map(|o| o.ms)
            .sum(),
    }
}

/// Runs the HotpotQA benchmark.
pub fn run_hotpotqa(
    data: &HotpotQa,
    opts: &BubbleEvalOptions,
    embedder: Option<&Embedder>,
    ranker: Option<&bubble_rank::Ranker>,
    progress: &mut dyn FnMut(Progress),
) -> Result<BubbleEval, EvalError> {
    let n = opts.questions.min(data.questions.len());
    let pooled = data.pooled(n);
    let (source, indexing) = crate::source::corpus_source(
        &opts.work_dir,
        |p| pooled.write_jsonl(p),
        embedder,
        opts.store.as_deref(),
        progress,
    )?;
    let counter = source.with(|c| crate::index_counter(c))?;
    let retrieve = crate::pipeline("retrieve", &crate::shipped_retrieve(opts.depth)?)?;
    let with_ranker = crate::no_ranker_method(ranker, 1)?;
    let methods: Vec<(&str, Pipeline)> = methods()?
        .into_iter()
        .chain(with_ranker)
        .chain(Some(crate::fill_method(1)?))
        .map(|(name, steps)| Ok((name, crate::pipeline(name, &steps)?)))
        .collect::<Result<_, EvalError>>()?;
    let mut results: Vec<Vec<Vec<Scored>>> = (0..opts.budgets.len())
        .map(|_| (0..methods.len()).map(|_| Vec::new()).collect())
        .collect();
    let mut notices = Vec::new();
    let mut in_pool = 0usize;
    for q in &data.questions[..n] {
        // One snapshot per question, as a server takes one per request.
        source.with(|corpus| {
            let ctx = Context {
                retriever: Retriever::new(corpus, embedder),
                counter: &counter,
                ranker,
            };
            let what = format!("question {}", q.id);
            let base = crate::retrieve_pool(&retrieve, &ctx, &q.text, &what, &mut notices)?;
            let gold = q.gold_titles();
            in_pool += usize::from(
                gold.iter()
                    .all(|t| base.candidates.iter().any(|c| &c.title == t)),
            );
            crate::run_methods(
                &ctx,
                &base,
                &opts.budgets,
                &methods,
                &what,
                |b, m, state| results[b][m].push(score(q, state, corpus)),
            )
        })?;
    }
    let mut rows = Vec::new();
    for (b, &budget) in opts.budgets.iter().enumerate() {
        for (m, (name, _)) in methods.iter().enumerate() {
            let r = &results[b][m];
            let f = |g: fn(&Scored) -> f64| mean(&r.iter().map(g).collect::<Vec<_>>());
            let found: usize = r.iter().map(|s| s.supporting_found).sum();
            let total: usize = r.iter().map(|s| s.supporting_total).sum();
            rows.push(MethodRow {
                method: name.to_string(),
                budget,
                both_gold: f(|s| f64::from(u8::from(s.both_gold))),
                sentence_recall: if total == 0 {
                    0.0
                } else {
                    found as f64 / total as f64
                },
                tokens: f(|s| s.tokens as f64),
                documents: f(|s| s.documents as f64),
                overlap: f(|s| s.overlap),
                select_p50_ms: percentile(&r.iter().map(|s| s.select_ms).collect::<Vec<_>>(), 50.0),
            });
        }
    }
    Ok(BubbleEval {
        questions: n,
        paragraphs: pooled.paragraphs.len(),
        depth: opts.depth,
        pool_both_gold: in_pool as f64 / n.max(1) as f64,
        indexing,
        rows,
        notices,
    })
}
