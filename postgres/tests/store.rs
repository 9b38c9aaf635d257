//! The PostgreSQL store against the embedded index, on a real server.

mod common;

use bubble_index::{
    build, BuildOptions, BuildReport, Corpus, Index, Restriction, SpanFilter, SpanSource,
};
use bubble_postgres::{Store, Writer, WriterOptions};
use std::path::Path;

const TRAVEL: &str = "# Travel policy\n\n## Per diem\n\nThe per diem is 60 EUR in Germany. \
It is 70 EUR in France. Receipts are not needed for the per diem.\n\n## Hotels\n\n\
Book hotels through the travel portal. A hotel above 150 EUR a night needs approval.\n\n\
| Plan | Price | Seats |\n|---|---|---|\n| Basic | 19 EUR | 1 |\n| Pro | 49 EUR | 5 |\n";
const FAQ: &str = "# FAQ\n\n## Expenses\n\nSubmit expenses within 30 days. Late expenses \
are paid in the next cycle.\n\n## Laptops\n\nA new laptop every three years; ask IT.\n";

fn write_docs(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// The store's writer over folder `docs`, every file of it upserted and committed.
fn write_all(writer: &mut Writer<'_>, docs: &Path) -> bubble_postgres::Commit {
    let mut names: Vec<String> = std::fs::read_dir(docs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let held: Vec<String> = writer.files().keys().cloned().collect();
    for gone in held.iter().filter(|h| !names.contains(h)) {
        writer.delete(gone);
    }
    for name in &names {
        let bytes = std::fs::read(docs.join(name)).unwrap();
        writer.upsert(name, &bytes).unwrap();
    }
    writer
        .commit(&mut BuildReport::default(), &mut |_| {})
        .unwrap()
}

fn embedded(docs: &Path, e: Option<&bubble_index::Embedder>) -> (tempfile::TempDir, Index) {
    let dir = tempfile::tempdir().unwrap();
    let opts = BuildOptions {
        root: Some(docs.to_path_buf()),
        ..BuildOptions::default()
    };
    build(dir.path(), &[docs.to_path_buf()], &opts, e, &mut |_| {}).unwrap();
    let index = Index::open(dir.path()).unwrap();
    (dir, index)
}

/// A fresh database, the two files in a `docs/` folder, and the model.
struct Setup {
    src: tempfile::TempDir,
    docs: std::path::PathBuf,
    store: Store,
    model: bubble_index::Embedder,
    url: String,
}

fn setup() -> Option<Setup> {
    let (Some(url), Some(model)) = (common::database(), common::embedder()) else {
        return None;
    };
    let src = tempfile::tempdir().unwrap();
    let docs = src.path().join("docs");
    write_docs(&docs, &[("travel.md", TRAVEL), ("faq.md", FAQ)]);
    let store = Store::connect(&url, 4).unwrap();
    Some(Setup {
        src,
        docs,
        store,
        model,
        url,
    })
}

/// A writer of `store` recording paths relative to `docs`.
fn writer<'e>(store: &Store, docs: &Path, model: &'e bubble_index::Embedder) -> Writer<'e> {
    let opts = WriterOptions {
        root: Some(docs.to_path_buf()),
        ..WriterOptions::default()
    };
    Writer::open(store, &opts, Some(model)).unwrap()
}

fn ids(corpus: &dyn Corpus, hits: &[(u32, f32)]) -> Vec<String> {
    hits.iter()
        .map(|(o, _)| corpus.span(*o).unwrap().id.0)
        .collect()
}

#[test]
fn the_store_answers_as_the_embedded_index_does() {
    let Some(Setup {
        src: _src,
        docs,
        store,
        model: e,
        ..
    }) = setup()
    else {
        return;
    };
    let mut writer = writer(&store, &docs, &e);
    let commit = write_all(&mut writer, &docs);
    assert_eq!(commit.upserted, 2);
    let (_dir, index) = embedded(&docs, Some(&e));
    let reader = store.reader().unwrap();
    assert_eq!(reader.manifest().counts, index.manifest().counts);

    let all = Restriction::default();
    for q in [
        "per diem Germany",
        "hotel portal approval",
        "Pro plan price",
        "laptop",
    ] {
        let (a, b) = (
            index.bm25(q, 5, &all).unwrap(),
            reader.bm25(q, 5, &all).unwrap(),
        );
        assert_eq!(ids(&index, &a), ids(&reader, &b), "{q}");
        for ((_, x), (_, y)) in a.iter().zip(&b) {
            // tantivy stores lengths in a byte; SQL has them exact.
            assert!((x - y).abs() <= 0.08 * x.abs().max(0.1), "{q}: {x} vs {y}");
        }
        let v = e.embed_query(q).unwrap();
        let (a, b) = (
            index.dense(&v, 3, 64, &all).unwrap(),
            reader.dense(&v, 3, 64, &all).unwrap(),
        );
        assert_eq!(ids(&index, &a), ids(&reader, &b), "{q}");
        for ((_, x), (_, y)) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-4, "{q}: {x} vs {y}");
        }
    }
    // Filters: a path glob and a kind.
    let rows = reader
        .restrict(&SpanFilter {
            paths: vec!["travel*".into()],
            kinds: vec![bubble_index::bubble_ingest::SpanKind::Row],
        })
        .unwrap();
    let hits = reader.bm25("EUR", 10, &rows).unwrap();
    assert!(!hits.is_empty());
    for (o, _) in &hits {
        assert_eq!(
            reader.kind(*o),
            Some(bubble_index::bubble_ingest::SpanKind::Row)
        );
        assert_eq!(reader.doc_of(*o).unwrap().source, "travel.md");
    }
    // Structure reads the same: a span's document, its units, its vector.
    let (o, _) = reader.bm25("per diem", 1, &all).unwrap()[0];
    let span = reader.span(o).unwrap();
    let twin = index.ord_of(&span.id.0).unwrap();
    assert_eq!(index.span(twin).unwrap(), span);
    assert_eq!(reader.ord_of(&span.id.0), Some(o));
    assert_eq!(reader.units_of(o).len(), index.units_of(twin).len());
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for (u, w) in reader.units_of(o).into_iter().zip(index.units_of(twin)) {
        assert!(reader.unit_vector(u, &mut a) && index.unit_vector(w, &mut b));
    }
    assert_eq!(a, b);
    assert_eq!(reader.vector(o).unwrap(), index.vector(twin).unwrap());
    reader.damage().unwrap();
}

#[test]
fn commits_replace_files_and_keep_unchanged_sections() {
    let Some(Setup {
        src: _src,
        docs,
        store,
        model: e,
        ..
    }) = setup()
    else {
        return;
    };
    let mut writer = writer(&store, &docs, &e);
    let first = write_all(&mut writer, &docs);
    assert!(first.embedded > 0);
    let before = store.reader().unwrap();

    // One section changes: only it is embedded again.
    let edited = TRAVEL.replace("70 EUR in France", "75 EUR in France");
    write_docs(&docs, &[("travel.md", &edited)]);
    let second = write_all(&mut writer, &docs);
    assert_eq!((second.upserted, second.removed), (1, 0));
    assert_eq!(second.embedded, 1, "only the per diem paragraph");
    assert_eq!(second.generation, first.generation + 1);
    // Nothing staged: nothing written.
    assert_eq!(write_all(&mut writer, &docs).generation, second.generation);

    let after = store.reader().unwrap();
    let all = Restriction::default();
    let top = |r: &dyn Corpus, q: &str| -> String {
        let hits = r.bm25(q, 1, &all).unwrap();
        r.span(hits[0].0)
            .unwrap_or_else(|| panic!("{:?}", r.damage()))
            .text
    };
    assert!(top(&after, "France per diem").contains("75 EUR"));
    // The reader opened before the commit keeps its snapshot.
    assert!(top(&before, "France per diem").contains("70 EUR"));
    drop(before);

    // A removed file goes with its spans, frequencies and counts.
    std::fs::remove_file(docs.join("faq.md")).unwrap();
    let third = write_all(&mut writer, &docs);
    assert_eq!(third.removed, 1);
    let last = store.reader().unwrap();
    assert!(last.bm25("laptop", 5, &all).unwrap().is_empty());
    let (_dir, index) = embedded(&docs, Some(&e));
    assert_eq!(last.manifest().counts, index.manifest().counts);
    let q = "hotel approval";
    assert_eq!(
        ids(&index, &index.bm25(q, 5, &all).unwrap()),
        ids(&last, &last.bm25(q, 5, &all).unwrap())
    );
}

/// A process keeps documents between requests; a store dropped and
/// created again under it numbers its spans afresh, and must be read afresh.
#[test]
fn a_store_created_again_under_a_process_is_read_afresh() {
    let Some(Setup {
        src: _src,
        docs,
        store,
        model: e,
        url,
    }) = setup()
    else {
        return;
    };
    let all = Restriction::default();
    let top = |q: &str| -> String {
        let reader = store.reader().unwrap();
        let (ord, _) = reader.bm25(q, 1, &all).unwrap()[0];
        // As assembly reads: the hits' whole documents first.
        reader.prefetch(&[ord]);
        reader.span(ord).unwrap().text
    };
    write_all(&mut writer(&store, &docs, &e), &docs);
    assert!(top("laptop").contains("three years"));

    // Another process drops the tables and indexes other text.
    bubble_postgres::testing::psql(
        &url,
        &[
            "DROP TABLE bubble_meta, bubble_state, bubble_files, bubble_documents, \
           bubble_spans, bubble_units, bubble_terms, bubble_postings",
        ],
    );
    let other = Store::connect(&url, 2).unwrap();
    let faq = FAQ.replace("every three years", "every two years");
    std::fs::remove_file(docs.join("travel.md")).unwrap();
    write_docs(&docs, &[("faq.md", &faq)]);
    write_all(&mut writer(&other, &docs, &e), &docs);

    assert!(top("laptop").contains("two years"));
}

#[test]
fn a_database_that_is_not_there_is_a_clear_error() {
    let started = std::time::Instant::now();
    let err = Store::connect("postgres://bubble@127.0.0.1:1/nothing", 2).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("unavailable") || text.contains("refused"),
        "{text}"
    );
    assert!(started.elapsed().as_secs() < 30);
    assert!(Store::connect("not a url", 2).is_err());
}
