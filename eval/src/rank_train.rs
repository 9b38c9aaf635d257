//! Training data for the ranker, from data never used for evaluation: the
//! SciFact training claims, and the training split of a documentation
//! question set. For each question: its vector (from the one search it
//! runs), the stored vectors of the spans that answer it, and hard
//! negatives — other spans of the gold document first (RankGen's
//! in-document negatives), then the hybrid retrieval's other hits.

use crate::docs::{normalise, probe, DocQuestion};
use crate::scifact::SciFact;
use crate::EvalError;
use bubble_index::{Embedder, Index};
use bubble_rank::Example;
use bubble_retrieval::{Fusion, Mode, Retriever, SearchRequest};
use std::collections::HashMap;

/// Hybrid hits searched per question for hard negatives.
const HARD_DEPTH: usize = 30;
/// In-document negatives per question, at most (nearest first).
const IN_DOC: usize = 20;

/// Stored vectors gathered from one or more indexes, in one flat pool.
#[derive(Debug, Default)]
pub struct Pool {
    /// Row-major vectors.
    pub values: Vec<f32>,
    /// Vector size.
    pub dim: usize,
    /// Training examples, indexing into `values`.
    pub examples: Vec<Example>,
}

/// One index's part of the pool: its span ords to pool rows.
struct Part<'p> {
    pool: &'p mut Pool,
    rows: HashMap<u32, u32>,
}

impl Part<'_> {
    fn row(&mut self, index: &Index, ord: u32) -> Option<u32> {
        if let Some(&r) = self.rows.get(&ord) {
            return Some(r);
        }
        let v = index.vectors()?.vector(ord)?;
        if self.pool.dim == 0 {
            self.pool.dim = v.len();
        }
        if v.len() != self.pool.dim {
            return None;
        }
        let r = (self.pool.values.len() / self.pool.dim) as u32;
        self.pool.values.extend_from_slice(v);
        self.rows.insert(ord, r);
        Some(r)
    }
}

/// The hybrid search a training question runs: its vector and hits.
fn search(retriever: &Retriever<'_>, query: &str) -> Result<(Vec<f32>, Vec<u32>), EvalError> {
    let mut req = SearchRequest::new(query.to_string());
    req.mode = Mode::Hybrid;
    req.fusion = Fusion::Weighted { dense_weight: 0.5 };
    req.k = HARD_DEPTH;
    req.depth = 100;
    let resp = retriever.search(&req)?;
    let q = resp.query_vector.ok_or_else(|| EvalError::Format {
        what: "ranker training".into(),
        detail: "the search computed no query vector (no model?)".into(),
    })?;
    Ok((q, resp.hits.iter().map(|h| h.ord).collect()))
}

/// Adds one example: positives and negatives by ord, turned into rows.
fn push(
    part: &mut Part<'_>,
    index: &Index,
    query: Vec<f32>,
    positives: &[u32],
    negatives: impl Iterator<Item = u32>,
) {
    let pos: Vec<u32> = positives
        .iter()
        .filter_map(|&o| part.row(index, o))
        .collect();
    if pos.is_empty() {
        return;
    }
    let mut neg = Vec::new();
    for o in negatives {
        if positives.contains(&o) {
            continue;
        }
        if let Some(r) = part.row(index, o) {
            if !neg.contains(&r) {
                neg.push(r);
            }
        }
    }
    part.pool.examples.push(Example {
        query,
        positives: pos,
        negatives: neg,
    });
}

/// In-document negatives: the gold document's other blocks that the
/// search also found, then those nearest its positives in reading order.
fn in_document(index: &Index, positives: &[u32], hits: &[u32]) -> Vec<u32> {
    let store = index.store();
    let Some(doc) = positives.first().and_then(|&o| store.doc_of(o)) else {
        return Vec::new();
    };
    let mut blocks: Vec<u32> = doc
        .spans
        .clone()
        .filter(|o| !positives.contains(o))
        .filter(|&o| store.span(o).is_some_and(|s| s.kind.is_retrievable()))
        .collect();
    let distance = |o: u32| positives.iter().map(|&p| p.abs_diff(o)).min().unwrap_or(0);
    blocks.sort_by_key(|&o| (!hits.contains(&o), distance(o), o));
    blocks.truncate(IN_DOC);
    blocks
}

/// Examples from the SciFact training claims: a claim's positives are the
/// blocks of the abstracts it cites.
pub fn scifact(
    pool: &mut Pool,
    data: &SciFact,
    index: &Index,
    embedder: &Embedder,
) -> Result<usize, EvalError> {
    let retriever = Retriever::new(index, Some(embedder));
    let blocks = crate::blocks_by_record(index);
    let mut part = Part {
        pool,
        rows: HashMap::new(),
    };
    let before = part.pool.examples.len();
    for q in &data.queries {
        let Some(cited) = data.qrels.0.get(&q.id) else {
            continue;
        };
        let positives: Vec<u32> = cited
            .keys()
            .filter_map(|d| blocks.get(d.as_str()))
            .flatten()
            .copied()
            .collect();
        let (vector, hits) = search(&retriever, &q.text)?;
        let negatives = in_document(index, &positives, &hits)
            .into_iter()
            .chain(hits.iter().copied());
        push(&mut part, index, vector, &positives, negatives);
    }
    Ok(part.pool.examples.len() - before)
}

/// Examples from documentation questions: a question's positives are the
/// blocks whose source text holds its gold passage's opening.
pub fn docs(
    pool: &mut Pool,
    questions: &[DocQuestion],
    corpus: &std::path::Path,
    index: &Index,
    embedder: &Embedder,
) -> Result<usize, EvalError> {
    let retriever = Retriever::new(index, Some(embedder));
    let store = index.store();
    let corpus = corpus.to_string_lossy().trim_end_matches('/').to_string();
    let mut sources = crate::docs::Sources::default();
    let mut part = Part {
        pool,
        rows: HashMap::new(),
    };
    let before = part.pool.examples.len();
    for q in questions {
        let wanted = probe(&q.gold_snippet);
        let path = format!("{corpus}/{}", q.gold_file);
        let Some(doc) = store.docs().find(|d| d.source == path) else {
            continue;
        };
        let Some(text) = sources.text(&path) else {
            continue;
        };
        // The passage's first block: the one whose text holds the probe's start.
        let head: String = wanted.chars().take(40).collect();
        let positives: Vec<u32> = doc
            .spans
            .clone()
            .filter(|&o| {
                store.span(o).is_some_and(|s| {
                    s.kind.is_retrievable()
                        && text
                            .get(s.byte_range.clone())
                            .is_some_and(|t| normalise(t).contains(head.trim()))
                })
            })
            .collect();
        if positives.is_empty() {
            continue;
        }
        let (vector, hits) = search(&retriever, &q.query)?;
        let negatives = in_document(index, &positives, &hits)
            .into_iter()
            .chain(hits.iter().copied());
        push(&mut part, index, vector, &positives, negatives);
    }
    Ok(part.pool.examples.len() - before)
}
