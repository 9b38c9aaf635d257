//! The real-documentation benchmark: questions over a documentation set
//! (the Node.js API manual from Debian's `nodejs-doc`, headings that would
//! give an answer away masked) whose gold is a passage. A bubble "holds the
//! passage" when the passage's opening (its first 80 normalised characters)
//! occurs in the bubble, the way `../shared/peers/scoring.py` scores
//! LlamaIndex on the same questions: the same question file, the same
//! probe, the same normalisation.
//!
//! The bubble is matched twice, and holds the passage if either matches:
//! its rendered text, and the source text of the spans it shows (a parsed
//! Markdown paragraph has lost the link labels the raw passage has, which
//! the peer's raw node text keeps).

use crate::metrics::{mean, percentile};
use crate::retrieval::IndexingStats;
use crate::EvalError;
use bubble_assembly::{Context, Pipeline, QueryState};
use bubble_index::{Embedder, Index, Progress};
use bubble_retrieval::Retriever;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use unicode_normalization::UnicodeNormalization;

/// Characters of the normalised gold snippet that must occur.
const PROBE_CHARS: usize = 80;

/// Hits whose text is searched for hit@k.
const HIT_K: usize = 10;

/// One question, in the peer's format.
#[derive(Debug, Clone, Deserialize)]
pub struct DocQuestion {
    /// Question id.
    pub id: String,
    /// The question.
    pub query: String,
    /// The opening of the answer passage, verbatim.
    pub gold_snippet: String,
    /// The passage's file, relative to the corpus.
    pub gold_file: String,
    /// `train` or `test`.
    #[serde(default)]
    pub split: String,
    /// Other passages that answer as well.
    #[serde(default)]
    pub alt_gold: Vec<AltGold>,
}

/// Another passage that answers a question.
#[derive(Debug, Clone, Deserialize)]
pub struct AltGold {
    /// Its opening.
    pub gold_snippet: String,
    /// Its file.
    pub gold_file: String,
}

impl DocQuestion {
    /// The probes (gold and alternatives) and their files.
    fn probes(&self) -> Vec<(String, &str)> {
        std::iter::once((self.gold_snippet.as_str(), self.gold_file.as_str()))
            .chain(
                self.alt_gold
                    .iter()
                    .map(|a| (a.gold_snippet.as_str(), a.gold_file.as_str())),
            )
            .map(|(s, f)| (probe(s), f))
            .collect()
    }
}

/// Reads a question file (JSONL), keeping `split` (`all`: every question).
pub fn load_questions(path: &Path, split: &str) -> Result<Vec<DocQuestion>, EvalError> {
    let qs: Vec<DocQuestion> = crate::jsonl::read(path)?;
    Ok(qs
        .into_iter()
        .filter(|q| split == "all" || q.split == split)
        .collect())
}

/// NFKC, lower case, every run of characters that are not letters or
/// digits one space (scoring.py's `norm_match`).
pub fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.nfkc().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    out
}

/// The first 80 characters of the normalised snippet.
pub fn probe(snippet: &str) -> String {
    let n = normalise(snippet);
    n.chars()
        .take(PROBE_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

/// Text with citation markers (`[12]`) removed: they sit between a table's
/// cells and before every span, and say nothing of the passage.
fn without_markers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('[') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && tail[digits..].starts_with(']') {
            rest = &tail[digits + 1..];
        } else {
            out.push('[');
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// The methods compared: the steps after retrieval (every method selects
/// from the same pool of the shipped default's retrieval).
pub fn methods() -> Result<Vec<(&'static str, String)>, EvalError> {
    Ok(vec![
        ("default", crate::shipped_steps("default", 1)?),
        (
            "top-k",
            r#"[{"op": "bubble", "mode": "top_k"}, {"op": "render"}]"#.into(),
        ),
        (
            "paper",
            r#"[{"op": "bubble", "mode": "paper"}, {"op": "render"}]"#.into(),
        ),
        ("compressed", crate::shipped_steps("compressed", 1)?),
    ])
}

/// Where and how to run.
#[derive(Debug, Clone)]
pub struct DocsEvalOptions {
    /// The documentation folder.
    pub corpus: PathBuf,
    /// Work folder (the index goes in its `docs-<corpus name>`).
    pub work_dir: PathBuf,
    /// Token budgets.
    pub budgets: Vec<usize>,
    /// Candidates retrieved per question.
    pub depth: usize,
    /// More methods, `(name, steps after retrieval as a JSON array)`.
    pub extra: Vec<(String, String)>,
}

/// One method at one budget.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocsRow {
    /// Method name.
    pub method: String,
    /// Token budget.
    pub budget: usize,
    /// Share of questions whose passage the bubble holds.
    pub success: f64,
    /// Share whose passage is in the top 10 of the method's own ranking of
    /// the pool (its retrieval scores).
    pub hit_at_10: f64,
    /// Share with a gold file among the top 10's sources.
    pub file_at_10: f64,
    /// Mean tokens of the rendered bubble.
    pub tokens: f64,
    /// Median milliseconds of the selection steps.
    pub select_p50_ms: f64,
}

/// The result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocsEval {
    /// Questions evaluated.
    pub questions: usize,
    /// Questions whose gold passage is not in the corpus (skipped).
    pub stale: usize,
    /// Share whose passage is among the pooled candidates.
    pub pool_success: f64,
    /// Candidates retrieved per question.
    pub depth: usize,
    /// Indexing statistics.
    pub indexing: IndexingStats,
    /// One row per method and budget.
    pub rows: Vec<DocsRow>,
    /// Notices.
    pub notices: Vec<String>,
}

impl DocsEval {
    /// A Markdown table.
    pub fn to_table(&self) -> String {
        let mut s = format!(
            "docs: {} questions ({} stale), {} candidates per question (passage among them: {:.3}); \
             index {} spans, {} embedded, {:.1} s\n\n\
             | budget | method | passage in bubble | hit@10 | file@10 | tokens | select p50 ms |\n\
             |---|---|---|---|---|---|---|\n",
            self.questions,
            self.stale,
            self.depth,
            self.pool_success,
            self.indexing.spans,
            self.indexing.embedded,
            self.indexing.seconds
        );
        for r in &self.rows {
            s += &format!(
                "| {} | {} | {:.3} | {:.3} | {:.3} | {:.0} | {:.2} |\n",
                r.budget, r.method, r.success, r.hit_at_10, r.file_at_10, r.tokens, r.select_p50_ms
            );
        }
        for n in &self.notices {
            s += &format!("note: {n}\n");
        }
        s
    }
}

/// What one method did for one question.
struct Scored {
    success: bool,
    hit: bool,
    file: bool,
    tokens: usize,
    select_ms: f64,
}

/// Source files, each read (and normalised) once.
#[derive(Default)]
pub(crate) struct Sources {
    raw: HashMap<String, Option<String>>,
    normalised: HashMap<String, Option<String>>,
}

impl Sources {
    /// A file's text, `None` if it cannot be read.
    pub(crate) fn text(&mut self, path: &str) -> Option<&str> {
        self.raw
            .entry(path.to_string())
            .or_insert_with(|| std::fs::read_to_string(path).ok())
            .as_deref()
    }

    /// A file's text as [`normalise`] gives it.
    fn normalised(&mut self, path: &str) -> Option<&str> {
        if !self.normalised.contains_key(path) {
            let n = self.text(path).map(normalise);
            self.normalised.insert(path.to_string(), n);
        }
        self.normalised.get(path).and_then(Option::as_deref)
    }
}

/// The raw source text of candidate spans, in the given order, normalised.
fn source_text(index: &Index, sources: &mut Sources, ords: &[u32]) -> String {
    let store = index.store();
    let mut out = String::new();
    for &o in ords {
        let (Some(span), Some(doc)) = (store.span(o), store.doc_of(o)) else {
            continue;
        };
        if let Some(t) = sources
            .text(&doc.source)
            .and_then(|t| t.get(span.byte_range.clone()))
        {
            out.push_str(t);
            out.push('\n');
        }
    }
    normalise(&out)
}

fn holds(probes: &[(String, &str)], text: &str) -> bool {
    probes
        .iter()
        .any(|(p, _)| !p.is_empty() && text.contains(p.as_str()))
}

fn score(
    probes: &[(String, &str)],
    corpus: &str,
    state: &QueryState,
    index: &Index,
    sources: &mut Sources,
) -> Scored {
    let rendered = state.rendered.as_ref();
    let text = normalise(&without_markers(rendered.map_or("", |r| r.text.as_str())));
    // The shown spans in rendering order: the citations' order.
    let shown: Vec<u32> = rendered
        .map(|r| {
            r.citations
                .iter()
                .flat_map(|c| {
                    let own = index.store().ord_of(&c.span_id);
                    let units: Vec<u32> = c
                        .units
                        .iter()
                        .filter_map(|u| index.store().ord_of(&u.span_id))
                        .collect();
                    if units.is_empty() {
                        own.into_iter().collect()
                    } else {
                        units
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let success = holds(probes, &text) || holds(probes, &source_text(index, sources, &shown));
    let mut ranked: Vec<usize> = (0..state.candidates.len()).collect();
    ranked.sort_by(|&a, &b| {
        let (ca, cb) = (&state.candidates[a], &state.candidates[b]);
        cb.scores
            .retrieval
            .total_cmp(&ca.scores.retrieval)
            .then(ca.span_id.cmp(&cb.span_id))
    });
    ranked.truncate(HIT_K);
    let top: Vec<u32> = ranked.iter().map(|&i| state.candidates[i].ord).collect();
    let hit = holds(probes, &source_text(index, sources, &top))
        || holds(
            probes,
            &normalise(
                &top.iter()
                    .filter_map(|&o| index.store().span(o))
                    .map(|s| s.text)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        );
    let file = ranked.iter().any(|&i| {
        let source = &state.candidates[i].source;
        probes.iter().any(|(_, f)| {
            source
                .strip_prefix(corpus)
                .map(|s| s.trim_start_matches('/'))
                == Some(*f)
        })
    });
    Scored {
        success,
        hit,
        file,
        tokens: rendered.map_or(0, |r| r.tokens),
        select_ms: state
            .ops
            .iter()
            .filter(|o| !matches!(o.op.as_str(), "retrieve" | "render"))
            .map(|o| o.ms)
            .sum(),
    }
}

/// The work folder of a documentation set's index.
fn work_of(work: &Path, corpus: &Path) -> PathBuf {
    let name = corpus
        .file_name()
        .map_or("docs".into(), |n| n.to_string_lossy().to_string());
    work.join(format!("docs-{name}"))
}

/// A documentation set's index under `work` (built if missing or stale),
/// the one the benchmark uses.
pub fn docs_index(
    work: &Path,
    corpus: &Path,
    embedder: &Embedder,
    progress: &mut dyn FnMut(Progress),
) -> Result<Index, EvalError> {
    let dir = work_of(work, corpus);
    Ok(crate::retrieval::folder_index(&dir, corpus, Some(embedder), progress)?.0)
}

/// Runs the benchmark over `questions`.
pub fn run_docs(
    questions: &[DocQuestion],
    opts: &DocsEvalOptions,
    embedder: Option<&Embedder>,
    ranker: Option<&bubble_rank::Ranker>,
    progress: &mut dyn FnMut(Progress),
) -> Result<DocsEval, EvalError> {
    let (index, indexing) = crate::retrieval::folder_index(
        &work_of(&opts.work_dir, &opts.corpus),
        &opts.corpus,
        embedder,
        progress,
    )?;
    let corpus = opts
        .corpus
        .to_string_lossy()
        .trim_end_matches('/')
        .to_string();
    let counter = crate::index_counter(&index)?;
    let ctx = Context {
        retriever: Retriever::new(&index, embedder),
        counter: &counter,
        ranker,
    };
    let retrieve = crate::pipeline("retrieve", &crate::shipped_retrieve(opts.depth)?)?;
    let methods: Vec<(String, Pipeline)> = methods()?
        .into_iter()
        .map(|(name, steps)| (name.to_string(), steps))
        .chain(
            crate::no_ranker_method(ranker, 1)?
                .into_iter()
                .chain(Some(crate::fill_method(1)?))
                .map(|(n, s)| (n.to_string(), s)),
        )
        .chain(opts.extra.iter().cloned())
        .map(|(name, steps)| {
            let p = crate::pipeline(&name, &steps)?;
            Ok((name, p))
        })
        .collect::<Result<_, EvalError>>()?;
    let mut results: Vec<Vec<Vec<Scored>>> = (0..opts.budgets.len())
        .map(|_| (0..methods.len()).map(|_| Vec::new()).collect())
        .collect();
    let mut sources = Sources::default();
    let (mut notices, mut stale, mut in_pool, mut scored) = (Vec::new(), 0, 0usize, 0usize);
    for q in questions {
        let probes = q.probes();
        let gold_path = format!("{corpus}/{}", q.gold_file);
        if !sources
            .normalised(&gold_path)
            .is_some_and(|t| t.contains(&probes[0].0))
        {
            stale += 1;
            continue;
        }
        scored += 1;
        let what = format!("question {}", q.id);
        let base = crate::retrieve_pool(&retrieve, &ctx, &q.query, &what, &mut notices)?;
        let pool: Vec<u32> = base.candidates.iter().map(|c| c.ord).collect();
        in_pool += usize::from(holds(&probes, &source_text(&index, &mut sources, &pool)));
        crate::run_methods(
            &ctx,
            &base,
            &opts.budgets,
            &methods,
            &what,
            |b, m, state| {
                results[b][m].push(score(&probes, &corpus, state, &index, &mut sources));
            },
        )?;
    }
    let mut rows = Vec::new();
    for (b, &budget) in opts.budgets.iter().enumerate() {
        for (m, (name, _)) in methods.iter().enumerate() {
            let r = &results[b][m];
            let share = |g: fn(&Scored) -> bool| {
                mean(
                    &r.iter()
                        .map(|s| f64::from(u8::from(g(s))))
                        .collect::<Vec<_>>(),
                )
            };
            rows.push(DocsRow {
                method: name.to_string(),
                budget,
                success: share(|s| s.success),
                hit_at_10: share(|s| s.hit),
                file_at_10: share(|s| s.file),
                tokens: mean(&r.iter().map(|s| s.tokens as f64).collect::<Vec<_>>()),
                select_p50_ms: percentile(&r.iter().map(|s| s.select_ms).collect::<Vec<_>>(), 50.0),
            });
        }
    }
    Ok(DocsEval {
        questions: scored,
        stale,
        pool_success: in_pool as f64 / scored.max(1) as f64,
        depth: opts.depth,
        indexing,
        rows,
        notices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_matches_the_peer_scoring() {
        // scoring.py: NFKC, lower case, runs of non-alphanumerics -> one space.
        assert_eq!(
            normalise("* [`Symbol`][] properties are NOT compared.\n  ﬁne_x"),
            "symbol properties are not compared fine x"
        );
        assert_eq!(probe(&"word ".repeat(40)).chars().count(), 79);
        assert_eq!(
            without_markers("[1] a | b | [12] |\n[x] [1"),
            " a | b |  |\n[x] [1"
        );
    }
}
