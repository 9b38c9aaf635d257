//! Building, updating and reopening indexes.

mod common;

use bubble_index::{build, BuildOptions, Corpus, Index, IndexError, Restriction};
use common::embedder;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn corpus() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docs/travel.md", "# Travel\n\n## Per diem\n\nThe per diem is 60 EUR in Germany.\n\n## Hotels\n\nBook hotels through the portal.\n");
    write(
        d.path(),
        "docs/pricing.csv",
        "Plan,Price\nStarter,49\nBusiness,499\n",
    );
    write(d.path(), "docs/sla.html", "<html><head><title>SLA</title></head><body><nav>menu</nav><h1>SLA</h1><p>Uptime is 99.9% &amp; credits apply.</p></body></html>");
    d
}

fn roots(d: &tempfile::TempDir) -> Vec<PathBuf> {
    vec![d.path().join("docs")]
}

/// A BM25-only build of the test corpus with default options.
fn build_plain(idx: &tempfile::TempDir, src: &tempfile::TempDir) -> bubble_index::BuildReport {
    build(
        idx.path(),
        &roots(src),
        &BuildOptions::default(),
        None,
        &mut |_| {},
    )
    .unwrap()
}

fn span_ids(index: &Index, source_suffix: &str) -> Vec<String> {
    let store = index.store();
    store
        .docs()
        .filter(|d| d.source.ends_with(source_suffix))
        .flat_map(|d| {
            d.spans
                .clone()
                .filter_map(|o| store.span(o))
                .map(|s| s.id.0)
        })
        .collect()
}

#[test]
fn incremental_update_adds_updates_removes_and_keeps_ids() {
    let src = corpus();
    let idx = tempfile::tempdir().unwrap();
    let opts = BuildOptions::default();
    let r = build(idx.path(), &roots(&src), &opts, None, &mut |_| {}).unwrap();
    assert_eq!((r.added, r.updated, r.removed, r.unchanged), (3, 0, 0, 0));
    assert!(r.committed && r.skipped.is_empty());
    let first = Index::open(idx.path()).unwrap();
    let csv_ids = span_ids(&first, "pricing.csv");

    let r = build(idx.path(), &roots(&src), &opts, None, &mut |_| {}).unwrap();
    assert_eq!(
        (r.added, r.updated, r.removed, r.unchanged, r.committed),
        (0, 0, 0, 3, false)
    );

    write(
        src.path(),
        "docs/travel.md",
        "# Travel\n\n## Per diem\n\nThe per diem is 75 EUR in Germany.\n",
    );
    write(
        src.path(),
        "docs/new.txt",
        "Expense reports are due monthly.",
    );
    std::fs::remove_file(src.path().join("docs/sla.html")).unwrap();
    let r = build(idx.path(), &roots(&src), &opts, None, &mut |_| {}).unwrap();
    assert_eq!((r.added, r.updated, r.removed, r.unchanged), (1, 1, 1, 1));
    let second = Index::open(idx.path()).unwrap();
    assert_eq!(
        span_ids(&second, "pricing.csv"),
        csv_ids,
        "unchanged file keeps its span ids"
    );
    assert!(span_ids(&second, "sla.html").is_empty());
    assert_eq!(
        second.manifest().generation,
        first.manifest().generation + 1
    );
    let hits = second
        .bm25("per diem 75", 3, &Restriction::default())
        .unwrap();
    let top = second.store().span(hits[0].0).unwrap();
    assert!(top.text.contains("75 EUR"), "{}", top.text);
    assert!(
        second
            .bm25("uptime credits", 3, &Restriction::default())
            .unwrap()
            .is_empty(),
        "removed doc still searchable"
    );
}

#[test]
fn files_outside_this_runs_roots_are_kept() {
    let src = corpus();
    write(src.path(), "other/a.md", "Alpha beta gamma.");
    let idx = tempfile::tempdir().unwrap();
    let opts = BuildOptions::default();
    build(
        idx.path(),
        &[src.path().join("other")],
        &opts,
        None,
        &mut |_| {},
    )
    .unwrap();
    let r = build(idx.path(), &roots(&src), &opts, None, &mut |_| {}).unwrap();
    assert_eq!((r.added, r.removed), (3, 0));
    assert_eq!(Index::open(idx.path()).unwrap().manifest().counts.files, 4);
}

#[test]
fn a_file_that_breaks_keeps_its_last_good_version() {
    let src = corpus();
    let idx = tempfile::tempdir().unwrap();
    build_plain(&idx, &src);
    std::fs::write(src.path().join("docs/travel.md"), [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let r = build_plain(&idx, &src);
    assert_eq!(r.skipped.len(), 1, "{:?}", r.skipped);
    assert!(r.skipped[0].1.contains("binary"), "{:?}", r.skipped);
    assert_eq!(r.removed, 0);
    let index = Index::open(idx.path()).unwrap();
    assert!(!span_ids(&index, "travel.md").is_empty());
}

#[test]
fn schema_and_tokenizer_mismatches_are_clear_errors() {
    let src = corpus();
    let idx = tempfile::tempdir().unwrap();
    build_plain(&idx, &src);
    let opts = BuildOptions {
        tokenizer: Some("o200k_base".into()),
        ..Default::default()
    };
    let err = build(idx.path(), &roots(&src), &opts, None, &mut |_| {}).unwrap_err();
    assert!(matches!(err, IndexError::TokenizerMismatch { .. }), "{err}");

    let gen = std::fs::read_to_string(idx.path().join("CURRENT")).unwrap();
    let manifest = idx.path().join(gen.trim()).join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        &format!("\"schema_version\": {}", bubble_index::SCHEMA_VERSION),
        "\"schema_version\": 999",
    );
    std::fs::write(&manifest, text).unwrap();
    let err = Index::open(idx.path()).unwrap_err();
    assert!(
        matches!(err, IndexError::SchemaMismatch { found: 999, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("re-index"), "{err}");

    let err = Index::open(&idx.path().join("nowhere")).unwrap_err();
    assert!(err.to_string().contains("no index at"), "{err}");
}

#[test]
fn embeddings_are_reused_and_checked_against_the_model() {
    let Some(embedder) = embedder() else { return };
    let src = corpus();
    let idx = tempfile::tempdir().unwrap();
    let opts = BuildOptions::default();
    // A BM25-only index gains vectors once a model is there.
    build(idx.path(), &roots(&src), &opts, None, &mut |_| {}).unwrap();
    let r = build(
        idx.path(),
        &roots(&src),
        &opts,
        Some(&embedder),
        &mut |_| {},
    )
    .unwrap();
    let index = Index::open(idx.path()).unwrap();
    let counts = &index.manifest().counts;
    assert_eq!(r.embedded, counts.retrievable);
    assert_eq!(counts.vectors, counts.retrievable);

    write(
        src.path(),
        "docs/new.txt",
        "Expense reports are due monthly.",
    );
    let r = build(
        idx.path(),
        &roots(&src),
        &opts,
        Some(&embedder),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(r.embedded, 1, "only the new span is embedded");

    // In a JSONL file, editing one record re-embeds that record only.
    write(src.path(), "docs/records.jsonl", "{\"id\": 1, \"title\": \"A\", \"text\": \"Alpha facts.\"}\n{\"id\": 2, \"title\": \"B\", \"text\": \"Beta facts.\"}\n");
    let r = build(
        idx.path(),
        &roots(&src),
        &opts,
        Some(&embedder),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(r.embedded, 2);
    write(src.path(), "docs/records.jsonl", "{\"id\": 1, \"title\": \"A\", \"text\": \"Alpha facts.\"}\n{\"id\": 2, \"title\": \"B\", \"text\": \"Beta facts, revised.\"}\n");
    let r = build(
        idx.path(),
        &roots(&src),
        &opts,
        Some(&embedder),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(
        (r.updated, r.embedded),
        (1, 1),
        "only the edited record is embedded again"
    );

    // Dense search finds a paraphrase BM25 cannot.
    let index = Index::open(idx.path()).unwrap();
    index.check_model(&embedder).unwrap();
    let q = embedder
        .embed_query("daily allowance when travelling in Germany")
        .unwrap();
    let hits = index.vectors().unwrap().search(&q, 3, 64, None).unwrap();
    let texts: Vec<String> = hits
        .iter()
        .map(|h| index.store().span(h.0).unwrap().text)
        .collect();
    assert!(texts[0].contains("per diem"), "{hits:?} {texts:?}");

    // Without the model, the vectors are not silently dropped.
    let err = build(idx.path(), &roots(&src), &opts, None, &mut |_| {}).unwrap_err();
    assert!(matches!(err, IndexError::NoVectors(_)), "{err}");

    // Vectors from another model are refused.
    let gen = std::fs::read_to_string(idx.path().join("CURRENT")).unwrap();
    let manifest = idx.path().join(gen.trim()).join("manifest.json");
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace(embedder.id(), "other-model@000");
    std::fs::write(&manifest, text).unwrap();
    let err = build(
        idx.path(),
        &roots(&src),
        &opts,
        Some(&embedder),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, IndexError::ModelMismatch { .. }), "{err}");
    let err = Index::open(idx.path())
        .unwrap()
        .check_model(&embedder)
        .unwrap_err();
    assert!(err.to_string().contains("other-model@000"), "{err}");
}

#[test]
fn a_second_writer_is_refused_with_the_holder_and_readers_go_on() {
    let d = corpus();
    let idx = tempfile::tempdir().unwrap();
    let opts = BuildOptions::default();
    build(idx.path(), &roots(&d), &opts, None, &mut |_| {}).unwrap();
    let held = bubble_index::WriterLock::acquire(idx.path()).unwrap();
    write(d.path(), "docs/new.md", "# New\n\nA new page.\n");
    let err = build(idx.path(), &roots(&d), &opts, None, &mut |_| {}).unwrap_err();
    assert!(matches!(err, IndexError::Locked { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("another writer") && msg.contains(&format!("process {}", std::process::id())),
        "{msg}"
    );
    // Readers take no lock and see the committed generation.
    let index = Index::open(idx.path()).unwrap();
    assert_eq!(index.manifest().counts.files, 3);
    drop(held);
    let r = build(idx.path(), &roots(&d), &opts, None, &mut |_| {}).unwrap();
    assert_eq!(r.added, 1);
}
