//! Every span of the shipped corpora cites its source exactly: the bytes at
//! its byte range hold the span's words, in order.

mod common;

use bubble_ingest::{parse_file, IngestOptions, SpanKind, TokenCounter};
use common::{check_ranges, in_order, source_words, words};
use std::io::Read;
use std::path::{Path, PathBuf};

fn corpus_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            corpus_files(&p, out);
        } else if bubble_ingest::detect_format(&p).is_some() {
            out.push(p);
        }
    }
}

/// The text the byte ranges point into (decompressed for .gz).
fn source_text(path: &Path, bytes: &[u8]) -> String {
    if path.extension().is_some_and(|e| e == "gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut s)
            .unwrap();
        s
    } else {
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}

#[test]
fn every_span_of_the_shipped_corpora_cites_its_source() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpora/acme");
    let mut files = Vec::new();
    corpus_files(&root, &mut files);
    assert!(files.len() >= 10, "corpus missing: {files:?}");
    let counter = TokenCounter::default_counter();
    let (mut spans, mut kinds) = (0, std::collections::BTreeSet::new());
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let name = path.to_string_lossy();
        let ingested = parse_file(&name, &bytes, &counter, &IngestOptions::default()).unwrap();
        assert!(
            ingested.warnings.is_empty(),
            "{name}: {:?}",
            ingested.warnings
        );
        let src = source_text(path, &bytes);
        let is_html = name.ends_with(".html");
        for doc in &ingested.docs {
            check_ranges(doc, &src);
            for span in &doc.spans {
                let slice = &src[span.byte_range.clone()];
                // HTML sources hold entities (&amp;) where the text holds characters.
                let slice = if is_html {
                    html_escape::decode_html_entities(slice).to_string()
                } else {
                    slice.to_string()
                };
                let want = source_words(doc, span);
                assert!(
                    in_order(&want, &words(&slice)),
                    "{name}: span {} ({}) words {want:?} not in order in its source {slice:?}",
                    span.id,
                    span.kind
                );
                spans += 1;
                kinds.insert(span.kind);
            }
        }
    }
    // The corpus exercises every structural kind.
    for k in SpanKind::ALL {
        assert!(kinds.contains(&k), "no {k} span in the corpus");
    }
    assert!(spans > 300, "only {spans} spans");
}

#[test]
fn rows_carry_their_header_and_sections_their_path() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpora/acme/tables/pricing.csv");
    let bytes = std::fs::read(&path).unwrap();
    let out = parse_file(
        "tables/pricing.csv",
        &bytes,
        &TokenCounter::default_counter(),
        &IngestOptions::default(),
    )
    .unwrap();
    let row = out.docs[0]
        .spans
        .iter()
        .find(|s| s.kind == SpanKind::Row)
        .unwrap();
    assert!(row.text.starts_with("Plan: "), "{}", row.text);
    assert!(
        row.text.contains(" | Price per month (USD): "),
        "{}",
        row.text
    );

    let md = b"# Guide\n\n## Travel\n\n### Per diem\n\nYou get 60 EUR a day.\n";
    let out = parse_file(
        "guide.md",
        md,
        &TokenCounter::default_counter(),
        &IngestOptions::default(),
    )
    .unwrap();
    let p = out.docs[0]
        .spans
        .iter()
        .find(|s| s.kind == SpanKind::Paragraph)
        .unwrap();
    assert_eq!(p.heading_path, vec!["Guide", "Travel", "Per diem"]);
    assert_eq!(out.docs[0].title, "Guide");
}

#[test]
fn ids_are_stable_and_content_addressed() {
    let counter = TokenCounter::default_counter();
    let opts = IngestOptions::default();
    let a = parse_file("a.md", b"# T\n\nOne.\n\nTwo.\n", &counter, &opts).unwrap();
    let b = parse_file("a.md", b"# T\n\nOne.\n\nTwo.\n", &counter, &opts).unwrap();
    assert_eq!(a.docs, b.docs);
    // Editing one paragraph keeps the other's id.
    let c = parse_file("a.md", b"# T\n\nOne changed.\n\nTwo.\n", &counter, &opts).unwrap();
    let id = |d: &bubble_ingest::Document, t: &str| {
        d.spans.iter().find(|s| s.text == t).map(|s| s.id.clone())
    };
    assert_eq!(id(&a.docs[0], "Two."), id(&c.docs[0], "Two."));
    assert_ne!(id(&a.docs[0], "One."), id(&c.docs[0], "One changed."));
    // Identical paragraphs in one document still get distinct ids.
    let d = parse_file("d.md", b"Same.\n\nSame.\n", &counter, &opts).unwrap();
    assert_ne!(d.docs[0].spans[0].id, d.docs[0].spans[1].id);
}
