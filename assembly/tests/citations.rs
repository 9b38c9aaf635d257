//! A compressed bubble cites every unit it shows exactly: each unit's byte
//! range slices, in its source file, to the unit's words in order; its line
//! range holds that byte range; and the shown text is made of exactly the
//! cited units (with elisions between them).

mod common;

use bubble_assembly::{assemble, pipelines, Context, Pipeline, ELISION};
use bubble_index::bubble_ingest::TokenCounter;
use bubble_retrieval::Retriever;
use common::{fixture, repo};
use std::path::Path;

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether `needle` occurs in `hay` as a subsequence.
fn in_order(needle: &[String], hay: &[String]) -> bool {
    let mut it = hay.iter();
    needle.iter().all(|w| it.any(|h| h == w))
}

/// The text byte ranges point into (decompressed for .gz).
fn source_text(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut s)
            .unwrap();
        s
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

/// The shipped compressed pipeline over the shared index, or `None` when
/// there is no model (compression needs unit vectors).
fn compressed<'a>(
    f: &'a common::Fixture,
    counter: &'a TokenCounter,
) -> Option<(Context<'a>, Pipeline)> {
    if f.embedder.is_none() {
        eprintln!("skipping: compression needs unit vectors");
        return None;
    }
    let ctx = Context {
        retriever: Retriever::new(&f.index, f.embedder.as_ref()),
        counter,
        ranker: None,
    };
    Some((ctx, Pipeline::from_json(pipelines::COMPRESSED).ok()?))
}

#[test]
fn every_kept_unit_cites_its_exact_source() {
    let f = fixture();
    let counter = TokenCounter::default_counter();
    let Some((ctx, pipeline)) = compressed(f, &counter) else {
        return;
    };
    let queries = std::fs::read_to_string(repo().join("corpora/acme-queries.jsonl")).unwrap();
    let mut units = 0;
    let mut cut_spans = 0;
    for line in queries.lines() {
        let q: serde_json::Value = serde_json::from_str(line).unwrap();
        for budget in [80, 200, 400] {
            let (out, _) = assemble(&ctx, &pipeline, q["query"].as_str().unwrap(), budget).unwrap();
            for (cit, span) in out.bubble.citations.iter().zip(&out.spans) {
                assert_eq!(cit.span_id, span.span_id);
                if cit.units.is_empty() {
                    continue;
                }
                cut_spans += 1;
                let mut shown = Vec::new();
                for u in &cit.units {
                    let src = source_text(&Path::new(&f.index.manifest().root).join(&u.source));
                    let slice = &src[u.byte_range.clone()];
                    let unit = f
                        .index
                        .store()
                        .ord_of(&u.span_id)
                        .and_then(|o| f.index.store().span(o))
                        .unwrap();
                    assert!(
                        in_order(&words(&unit.text), &words(slice)),
                        "{} not in {slice:?}",
                        unit.text
                    );
                    // Inside the cited span, on the cited lines.
                    assert!(
                        cit.byte_range.start <= u.byte_range.start
                            && u.byte_range.end <= cit.byte_range.end
                    );
                    let first = src[..u.byte_range.start].matches('\n').count() as u32 + 1;
                    assert_eq!(u.line_range.0, first, "{}", u.span_id);
                    shown.push(unit.text.clone());
                    units += 1;
                }
                // The span shows its cited units and elisions, nothing else.
                let rest = shown
                    .iter()
                    .fold(span.text.clone(), |t, u| t.replacen(u.as_str(), "", 1));
                assert!(
                    rest.replace(ELISION, "").trim().is_empty(),
                    "{:?} left {rest:?}",
                    span.text
                );
            }
            for m in out.bubble.citations.iter().flat_map(|c| &c.merged) {
                assert!(m.into.is_some(), "a folded unit names the unit it repeats");
            }
        }
    }
    assert!(
        cut_spans > 10 && units > 20,
        "{cut_spans} compressed spans, {units} units"
    );
}

#[test]
fn spans_without_units_pass_through_compression_whole() {
    let f = fixture();
    let counter = TokenCounter::default_counter();
    let Some((ctx, pipeline)) = compressed(f, &counter) else {
        return;
    };
    let q = "How much does the Business plan cost and what SLA credit applies below 99.0% uptime?";
    let (out, trace) = assemble(&ctx, &pipeline, q, 300).unwrap();
    // A table header the bubble brought along with its row has no unit
    // vector: compression cannot judge it, so it is neither cut nor dropped.
    let header = trace
        .candidates
        .iter()
        .find(|c| c.kind == bubble_index::bubble_ingest::SpanKind::TableHeader && c.is_selected())
        .expect("a header in the bubble");
    assert!(out.spans.iter().any(|s| s.span_id == header.span_id));
    let compression = trace.compression.expect("compressed");
    assert!(compression
        .units
        .iter()
        .all(|u| u.span_id != header.span_id));
    assert!(!compression.groups.iter().any(|g| g.group == header.span_id));
}
