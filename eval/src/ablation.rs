//! The context-bubble paper's ablation, on the shipped corpus: from top-k to
//! the full bubble, one gate at a time, with the tokens used, the distinct
//! sections and the lexical overlap the paper reports, plus the share of
//! gold facts in the bubble (fewer tokens only count if the facts stay).

use crate::bubble::mean_overlap;
use crate::metrics::mean;
use crate::EvalError;
use bubble_assembly::{assemble_with, Context};
use bubble_index::{build, BuildOptions, Embedder, Index};
use bubble_retrieval::Retriever;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::PathBuf;

/// The paper's variants, as pipelines: each adds one thing to the one
/// before. The run adds our default pipeline as the last row.
pub const VARIANTS: [(&str, &str); 4] = [
    (
        "top-k",
        r#"[{"op": "retrieve"}, {"op": "bubble", "mode": "top_k"}, {"op": "render"}]"#,
    ),
    (
        "+ structure priors",
        r#"[{"op": "retrieve"}, {"op": "bubble", "mode": "paper", "delta": 1.0, "section_share": 1.0, "kind_boosts": {"row": 1.0, "table_header": 1.0}}, {"op": "render"}]"#,
    ),
    (
        "+ diversity",
        r#"[{"op": "retrieve"}, {"op": "bubble", "mode": "paper", "delta": 0.5, "section_share": 1.0, "kind_boosts": {"row": 1.0, "table_header": 1.0}}, {"op": "render"}]"#,
    ),
    (
        "full bubble (paper)",
        r#"[{"op": "retrieve"}, {"op": "bubble", "mode": "paper", "delta": 0.5, "section_share": 0.5, "kind_boosts": {"row": 1.0, "table_header": 1.0}}, {"op": "render"}]"#,
    ),
];

/// What to run on.
#[derive(Debug, Clone)]
pub struct AblationOptions {
    /// The corpus folder.
    pub corpus: PathBuf,
    /// Gold queries (JSONL: `query`, `relevant` [{`path`, `contains`}]).
    pub queries: PathBuf,
    /// Token budget (the paper used 800).
    pub budget: usize,
    /// Folder for the index.
    pub work_dir: PathBuf,
}

/// One variant, averaged over the queries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AblationRow {
    /// Variant name.
    pub variant: String,
    /// Mean tokens of the rendered bubble.
    pub tokens: f64,
    /// Mean distinct sections (document + heading path).
    pub sections: f64,
    /// Mean lexical overlap of a span with the rest of its bubble.
    pub overlap: f64,
    /// Share of gold facts whose text is in the bubble.
    pub gold_recall: f64,
    /// Share of decisions per reason, over all candidates.
    pub reasons: Vec<(String, f64)>,
}

#[derive(Deserialize)]
struct Gold {
    query: String,
    relevant: Vec<Relevant>,
}

#[derive(Deserialize)]
struct Relevant {
    contains: String,
}

/// Runs the ablation.
pub fn run(
    opts: &AblationOptions,
    embedder: Option<&Embedder>,
    ranker: Option<&bubble_rank::Ranker>,
) -> Result<Ablation, EvalError> {
    let gold: Vec<Gold> = crate::jsonl::read(&opts.queries)?;
    let index_dir = opts.work_dir.join("index");
    build(
        &index_dir,
        std::slice::from_ref(&opts.corpus),
        &BuildOptions::default(),
        embedder,
        &mut |_| {},
    )?;
    let index = Index::open(&index_dir)?;
    let counter = crate::index_counter(&index)?;
    let ctx = Context {
        retriever: Retriever::new(&index, embedder),
        counter: &counter,
        ranker,
    };
    let mut rows = Vec::new();
    let ours = ("default (ours)", crate::shipped_steps("default", 0)?);
    let with_ranker = crate::no_ranker_method(ranker, 0)?;
    let variants = VARIANTS
        .iter()
        .map(|&(name, steps)| (name, steps.to_string()))
        .chain(std::iter::once(ours))
        .chain(with_ranker)
        .chain(Some(crate::fill_method(0)?));
    for (name, steps) in variants {
        let pipeline = crate::pipeline(name, &steps)?;
        let (mut tokens, mut sections, mut overlap, mut recall) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut reasons: std::collections::BTreeMap<String, usize> =
            std::collections::BTreeMap::new();
        for g in &gold {
            let ctx = crate::context_for(name, &ctx);
            let (out, trace) =
                assemble_with(&ctx, &pipeline, &g.query, opts.budget, name == crate::FILL)
                    .map_err(|e| EvalError::Format {
                        what: g.query.clone(),
                        detail: e.to_string(),
                    })?;
            tokens.push(out.bubble.tokens as f64);
            let secs: HashSet<String> = trace
                .candidates
                .iter()
                .filter(|c| c.is_selected())
                .map(|c| c.section_key())
                .collect();
            sections.push(secs.len() as f64);
            let texts: Vec<&str> = out.spans.iter().map(|s| s.text.as_str()).collect();
            overlap.push(mean_overlap(&texts));
            // A fact shown once for two sources (a CSV row and the HTML
            // page showing it) is found in either wording.
            let folded: Vec<String> = out
                .bubble
                .citations
                .iter()
                .flat_map(|c| &c.also_in)
                .filter_map(|a| index.store().ord_of(&a.span_id))
                .filter_map(|o| index.store().span(o))
                .map(|s| s.text)
                .collect();
            let found = g
                .relevant
                .iter()
                .filter(|r| {
                    out.bubble.text.contains(&r.contains)
                        || folded.iter().any(|t| t.contains(&r.contains))
                })
                .count();
            recall.push(found as f64 / g.relevant.len().max(1) as f64);
            for (k, v) in trace.summary.reasons {
                *reasons.entry(k).or_default() += v;
            }
        }
        let total: usize = reasons.values().sum();
        rows.push(AblationRow {
            variant: name.to_string(),
            tokens: mean(&tokens),
            sections: mean(&sections),
            overlap: mean(&overlap),
            gold_recall: mean(&recall),
            reasons: reasons
                .into_iter()
                .map(|(k, v)| (k, v as f64 / total.max(1) as f64))
                .collect(),
        });
    }
    Ok(Ablation {
        queries: gold.len(),
        budget: opts.budget,
        rows,
    })
}

/// The ablation's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ablation {
    /// Gold queries run.
    pub queries: usize,
    /// Token budget.
    pub budget: usize,
    /// One row per variant.
    pub rows: Vec<AblationRow>,
}

impl Ablation {
    /// A Markdown table of the rows.
    pub fn to_table(&self) -> String {
        let mut s = format!(
            "ablation on the shipped corpus: {} gold queries, budget {}\n\n\
             | variant | tokens | distinct sections | avg overlap | gold facts in bubble | decisions |\n|---|---|---|---|---|---|\n",
            self.queries, self.budget
        );
        for r in &self.rows {
            let reasons: Vec<String> = r
                .reasons
                .iter()
                .map(|(k, v)| format!("{k} {:.0}%", v * 100.0))
                .collect();
            s += &format!(
                "| {} | {:.0} | {:.2} | {:.3} | {:.3} | {} |\n",
                r.variant,
                r.tokens,
                r.sections,
                r.overlap,
                r.gold_recall,
                reasons.join(", ")
            );
        }
        s
    }
}
