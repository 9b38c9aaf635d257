//! The contexts of each dataset, built on an index of its corpus.

use super::{Case, CompressEvalOptions, Fact};
use crate::bubble::norm;
use crate::EvalError;
use bubble_assembly::{Context, QueryState};
use bubble_index::{Embedder, Index, Progress};
use bubble_retrieval::{Mode, Retriever, SearchRequest};
use std::collections::HashMap;

/// Which contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    /// SQuAD 2.0 dev: gold paragraph and four more of its article.
    Squad,
    /// HotpotQA dev: the default 1,024-token bubble.
    Hotpotqa,
    /// SciFact test claims: the hybrid top 10 abstracts.
    Scifact,
}

impl Dataset {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Squad => "squad",
            Dataset::Hotpotqa => "hotpotqa",
            Dataset::Scifact => "scifact",
        }
    }
}

/// The index and the cases of `opts.dataset`.
pub(super) fn prepare(
    opts: &CompressEvalOptions,
    embedder: &Embedder,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Index, Vec<Case>), EvalError> {
    match opts.dataset {
        Dataset::Squad => squad(opts, embedder, progress),
        Dataset::Hotpotqa => hotpotqa(opts, embedder, progress),
        Dataset::Scifact => scifact(opts, embedder, progress),
    }
}

fn squad(
    opts: &CompressEvalOptions,
    embedder: &Embedder,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Index, Vec<Case>), EvalError> {
    let data = crate::squad::load(&opts.data)?;
    let (index, _) = crate::retrieval::corpus_index(
        &opts.work_dir.join("squad"),
        |p| data.write_jsonl(p, true),
        Some(embedder),
        progress,
    )?;
    let blocks = crate::blocks_by_record(&index);
    let store = index.store();
    let mut cases = Vec::new();
    for q in data.answerable().into_iter().take(opts.questions) {
        let mut case = Case {
            query: q.text.clone(),
            query_vector: embedder.embed_query(&q.text)?,
            blocks: Vec::new(),
            twins: Vec::new(),
            twin_of: HashMap::new(),
            facts: vec![Fact::Answer(q.answers.clone())],
        };
        for (a, p) in data.context_of(&q) {
            let id = format!("{a}-{p}");
            case.blocks
                .extend(blocks.get(id.as_str()).into_iter().flatten());
            let twins = blocks
                .get(format!("{id}-dup").as_str())
                .cloned()
                .unwrap_or_default();
            // Each unit of a twin stands for the sentence whose duplicate holds it.
            let pairs = crate::squad::duplicated_sentences(&data.articles[a].paragraphs[p]);
            let mut at = 0;
            for &t in &twins {
                for u in store.units_of(t) {
                    let text = store.span(u).map(|s| s.text).unwrap_or_default();
                    if let Some(k) = (at..pairs.len()).find(|&k| pairs[k].1.contains(&text)) {
                        case.twin_of.insert(u, pairs[k].0.clone());
                        at = k;
                    }
                }
            }
            case.twins.extend(twins);
        }
        cases.push(case);
    }
    Ok((index, cases))
}

fn hotpotqa(
    opts: &CompressEvalOptions,
    embedder: &Embedder,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Index, Vec<Case>), EvalError> {
    let data = crate::hotpotqa::load(&opts.data)?;
    let n = opts.questions.min(data.questions.len());
    let pooled = data.pooled(n);
    let (index, _) = crate::retrieval::corpus_index(
        &opts.work_dir.join("hotpotqa"),
        |p| pooled.write_jsonl(p),
        Some(embedder),
        progress,
    )?;
    let counter = crate::index_counter(&index)?;
    let ctx = Context {
        retriever: Retriever::new(&index, Some(embedder)),
        counter: &counter,
        ranker: None,
    };
    // The context: the shipped default pipeline's bubble at 1,024 tokens,
    // on the pool `eval bubble` retrieves.
    let retrieve = crate::pipeline("retrieve", &crate::shipped_retrieve(200)?)?;
    let default = crate::pipeline("default", &crate::shipped_steps("default", 1)?)?;
    let mut cases = Vec::new();
    for q in &data.questions[..n] {
        let mut state = QueryState::new(q.text.clone(), 1024);
        let what = format!("question {}", q.id);
        crate::run_pipeline(&retrieve, &ctx, &mut state, &what)?;
        crate::run_pipeline(&default, &ctx, &mut state, &what)?;
        let Some(query_vector) = state.query_vector.clone() else {
            continue;
        };
        let mut facts = Vec::new();
        for title in &q.gold_titles() {
            let Some(p) = q.paragraphs.iter().find(|p| &p.title == title) else {
                continue;
            };
            for (_, i) in q.supporting.iter().filter(|(t, _)| t == title) {
                if let Some(s) = p
                    .sentences
                    .get(*i)
                    .map(|s| norm(s))
                    .filter(|s| !s.is_empty())
                {
                    facts.push(Fact::Sentence(s));
                }
            }
        }
        cases.push(Case {
            query: q.text.clone(),
            query_vector,
            blocks: state
                .selected
                .iter()
                .map(|&i| state.candidates[i].ord)
                .collect(),
            twins: Vec::new(),
            twin_of: HashMap::new(),
            facts,
        });
    }
    Ok((index, cases))
}

fn scifact(
    opts: &CompressEvalOptions,
    embedder: &Embedder,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Index, Vec<Case>), EvalError> {
    let data = crate::scifact::load(&opts.data)?;
    let (index, _) = crate::retrieval::corpus_index(
        &opts.work_dir.join("scifact"),
        |p| data.write_jsonl(p),
        Some(embedder),
        progress,
    )?;
    let blocks = crate::blocks_by_record(&index);
    let retriever = Retriever::new(&index, Some(embedder));
    let docs = data.docs_by_id();
    let mut cases = Vec::new();
    for q in data.queries.iter().take(opts.questions) {
        let Some(rationales) = data.rationales.0.get(&q.id) else {
            continue;
        };
        let mut req = SearchRequest::new(q.text.clone());
        req.mode = Mode::Hybrid;
        req.k = 100;
        let resp = retriever.search(&req)?;
        let store = index.store();
        let mut top: Vec<String> = Vec::new();
        for h in &resp.hits {
            let record = store
                .doc_of(h.ord)
                .and_then(|d| d.metadata.get("record").cloned());
            if let Some(r) = record.filter(|r| !top.contains(r)) {
                top.push(r);
            }
            if top.len() == 10 {
                break;
            }
        }
        let mut facts: Vec<Fact> = Vec::new();
        for (doc, sentences) in rationales {
            let Some(d) = docs.get(doc.as_str()).filter(|_| top.contains(doc)) else {
                continue;
            };
            for &i in sentences {
                let Some(s) = d.sentences.get(i).map(|s| norm(s)) else {
                    continue;
                };
                if !facts
                    .iter()
                    .any(|f| matches!(f, Fact::Sentence(t) if *t == s))
                {
                    facts.push(Fact::Sentence(s));
                }
            }
        }
        if facts.is_empty() {
            continue;
        }
        let Some(query_vector) = resp.query_vector.clone() else {
            continue;
        };
        cases.push(Case {
            query: q.text.clone(),
            query_vector,
            blocks: top
                .iter()
                .flat_map(|r| blocks.get(r.as_str()).cloned().unwrap_or_default())
                .collect(),
            twins: Vec::new(),
            twin_of: HashMap::new(),
            facts,
        });
    }
    Ok((index, cases))
}
