//! Embedding a build's blocks, section by section: the blocks of a section
//! (its consecutive retrievable spans under one heading path) share model
//! windows (`windows.rs`), so a section is embedded, and reused from the
//! previous generation, as a whole: a block's vector depends on the
//! neighbours it was read with, and a rebuild from scratch must give the
//! vectors an incremental one does.

use crate::corpus::Corpus;
use crate::embed::{BlockText, Embedder, SectionText};
use crate::error::IndexError;
use crate::store::{DocEntry, SpanBatch, SpanSource};
use crate::units::UnitVectors;
use crate::vectors::VectorMatrix;
use crate::{BuildReport, Progress};
use bubble_ingest::SpanKind;
use std::collections::{HashMap, HashSet};

/// What an embedding pass does: reuse the previous generation's vectors
/// where it can, and whether to pool unit vectors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EmbedPlan {
    pub(crate) reuse: bool,
    /// Reuse only sections of one block that is not code: the previous
    /// generation pooled every block alone, which is what such a section
    /// still gets (a code block is now cut at [`CODE_TOKENS`]).
    pub(crate) only_lone_blocks: bool,
    pub(crate) units: bool,
    pub(crate) continuation: bool,
}

/// Tokens of a code block the model reads: its opening lines say what it
/// shows; the rest is identifiers and punctuation a text encoder reads
/// poorly and BM25 indexes anyway (on the Node.js manual, code is 29 % of
/// the tokens).
const CODE_TOKENS: usize = 64;

/// Blocks per embedding call: large enough for length-sorted batches to pay off.
const EMBED_CHUNK: usize = 1024;

/// The text a span is embedded as: "Title > Section > Subsection: text".
pub fn embedding_text(title: &str, span: &bubble_ingest::Span) -> String {
    format!("{}: {}", heading_context(title, span), span.text)
}

/// The heading context a span is read in: "Title > Section > Subsection".
fn heading_context(title: &str, span: &bubble_ingest::Span) -> String {
    let mut path: Vec<&str> = Vec::new();
    if span.heading_path.first().map(String::as_str) != Some(title) {
        path.push(title);
    }
    path.extend(span.heading_path.iter().map(String::as_str));
    path.join(" > ")
}

/// A section's blocks waiting for the model.
struct Todo {
    /// Where each block's vector goes.
    slots: Vec<usize>,
    section: SectionText,
    unit_ords: Vec<Vec<u32>>,
}

/// A block's vector and its units' vectors, concatenated.
type Reused = (Vec<f32>, Vec<f32>);

/// Embeds the retrievable spans of `store` (and, with `plan.units`, pools
/// a vector for every compression unit from the same passes), reusing the
/// previous generation's vectors of every section whose blocks (ids: a hash
/// of document, kind, heading path and text) and document title are
/// unchanged: editing one record of a large JSONL file, or one section of
/// a manual, re-embeds that record or section, not the file.
pub(crate) fn embed_store(
    store: &SpanBatch,
    plan: EmbedPlan,
    previous: Option<&dyn Corpus>,
    embedder: &Embedder,
    report: &mut BuildReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<(VectorMatrix, Option<UnitVectors>), IndexError> {
    let mut vectors: Vec<Option<Vec<f32>>> = Vec::new();
    let mut ords: Vec<u32> = Vec::new();
    let mut units = plan.units.then(|| UnitVectors::new(embedder.dim()));
    let mut todo: Vec<Todo> = Vec::new();
    let mut old_sections = OldSections::default();
    for doc in store.docs() {
        for run in section_runs(store, doc) {
            let unit_ords: Vec<Vec<u32>> = run
                .iter()
                .map(|&o| {
                    if plan.units {
                        store.units_of(o)
                    } else {
                        Vec::new()
                    }
                })
                .collect();
            let old = previous
                .filter(|_| plan.reuse)
                .filter(|_| !plan.only_lone_blocks || is_lone_prose(store, &run))
                .and_then(|p| reused(store, doc, &run, &unit_ords, p, &mut old_sections));
            match old {
                Some(found) => {
                    for ((v, us), uo) in found.into_iter().zip(&unit_ords) {
                        if let Some(units) = units.as_mut() {
                            for (&u, uv) in uo.iter().zip(us.chunks_exact(embedder.dim())) {
                                units.push(u, uv);
                            }
                        }
                        vectors.push(Some(v));
                    }
                }
                None => {
                    let Some(first) = run.first().and_then(|&o| store.span(o)) else {
                        continue;
                    };
                    let blocks = run
                        .iter()
                        .zip(&unit_ords)
                        // One block per slot, in order: the vectors come back by position.
                        .map(|(&o, uo)| {
                            let span = store.span(o);
                            BlockText {
                                text: span.map(|s| s.text.clone()).unwrap_or_default(),
                                units: store.unit_ranges(o, uo),
                                max_tokens: span
                                    .is_some_and(|s| s.kind == SpanKind::Code)
                                    .then_some(CODE_TOKENS),
                            }
                        })
                        .collect();
                    todo.push(Todo {
                        slots: (vectors.len()..vectors.len() + run.len()).collect(),
                        section: SectionText {
                            context: heading_context(&doc.title, first),
                            blocks,
                        },
                        unit_ords,
                    });
                    vectors.resize(vectors.len() + run.len(), None);
                }
            }
            ords.extend(&run);
        }
    }
    let total: usize = todo.iter().map(|t| t.slots.len()).sum();
    let mut done = 0;
    let mut rest = &todo[..];
    while !rest.is_empty() {
        progress(Progress::Embedding { done, total });
        let mut take = 0;
        let mut blocks = 0;
        while take < rest.len() && blocks < EMBED_CHUNK {
            blocks += rest[take].slots.len();
            take += 1;
        }
        let (chunk, after) = rest.split_at(take);
        rest = after;
        let sections: Vec<SectionText> = chunk.iter().map(|t| t.section.clone()).collect();
        let embedded = embedder.embed_sections(&sections, plan.continuation)?;
        for (t, es) in chunk.iter().zip(embedded) {
            for ((&slot, uo), e) in t.slots.iter().zip(&t.unit_ords).zip(es) {
                if let Some(units) = units.as_mut() {
                    for (&u, uv) in uo.iter().zip(&e.units) {
                        units.push(u, uv);
                    }
                }
                vectors[slot] = Some(e.vector);
            }
        }
        done += blocks;
    }
    progress(Progress::Embedding { done: total, total });
    report.embedded += total;
    let mut matrix = VectorMatrix::new(embedder.dim());
    for (ord, v) in ords.into_iter().zip(vectors) {
        if let Some(v) = v {
            matrix.push(ord, &v);
        }
    }
    Ok((matrix, units))
}

/// A document's sections as runs of retrievable span ords: consecutive
/// retrievable spans with one heading path.
fn section_runs(store: &(impl SpanSource + ?Sized), doc: &DocEntry) -> Vec<Vec<u32>> {
    let mut runs: Vec<Vec<u32>> = Vec::new();
    let mut path: Option<Vec<String>> = None;
    for ord in doc.spans.clone() {
        let Some(span) = store.span_at(ord).filter(|s| s.kind.is_retrievable()) else {
            continue;
        };
        match runs.last_mut() {
            Some(run) if path.as_deref() == Some(&span.heading_path[..]) => run.push(ord),
            _ => runs.push(vec![ord]),
        }
        path = Some(span.heading_path.clone());
    }
    runs
}

/// Whether a section is one block that is not code.
fn is_lone_prose(store: &SpanBatch, run: &[u32]) -> bool {
    match run {
        [only] => store.span(*only).is_some_and(|s| s.kind != SpanKind::Code),
        _ => false,
    }
}

/// The previous generation's sections, per document id, found once per document.
type OldSections = HashMap<String, HashSet<Vec<u32>>>;

/// The previous generation's vectors of a section, when it held exactly
/// these blocks, under the same title (the title is read with the blocks
/// but is not part of their ids).
fn reused(
    store: &SpanBatch,
    doc: &DocEntry,
    run: &[u32],
    unit_ords: &[Vec<u32>],
    previous: &dyn Corpus,
    old_sections: &mut OldSections,
) -> Option<Vec<Reused>> {
    let old = previous;
    let old_of = |o: u32| old.ord_of(&store.span(o)?.id.0);
    let old_run: Vec<u32> = run.iter().map(|&o| old_of(o)).collect::<Option<_>>()?;
    let old_doc = old.doc_of(*old_run.first()?)?;
    if old_doc.title != doc.title {
        return None;
    }
    let sections = old_sections
        .entry(old_doc.id.clone())
        .or_insert_with(|| section_runs(old, &old_doc).into_iter().collect());
    if !sections.contains(&old_run) {
        return None;
    }
    old_run
        .iter()
        .zip(unit_ords)
        .map(|(&o, uo)| {
            let v = previous.vector(o)?.into_owned();
            let mut us: Vec<f32> = Vec::new();
            for &u in uo {
                previous.unit_vector(old_of(u)?, &mut us).then_some(())?;
            }
            Some((v, us))
        })
        .collect()
}
