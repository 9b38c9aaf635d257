//! The writer API and appended commits: what a live service relies on.

mod common;

use bubble_index::{
    build, BuildOptions, BuildReport, Corpus, Embedder, Index, IndexError, Restriction, Writer,
};
use std::path::Path;

fn page(topic: &str, fact: &str) -> String {
    format!(
        "# {topic}\n\n## Facts\n\n{fact}\n\n## More\n\nAsk the {topic} desk for anything else.\n"
    )
}

fn build_into(idx: &Path, docs: &Path, opts: &BuildOptions, e: Option<&Embedder>) -> BuildReport {
    build(idx, &[docs.to_path_buf()], opts, e, &mut |_| {}).unwrap()
}

/// `(ord, score, text)` of the BM25 top 10.
fn bm25(index: &Index, q: &str) -> Vec<(u32, f32, String)> {
    index
        .bm25(q, 10, &Restriction::default())
        .unwrap()
        .into_iter()
        .map(|(o, s)| (o, s, index.store().span(o).unwrap().text))
        .collect()
}

/// `(ord, cosine, text)` of the dense top 5.
fn dense(index: &Index, e: &Embedder, q: &str) -> Vec<(u32, f32, String)> {
    let v = e.embed_query(q).unwrap();
    index
        .vectors()
        .unwrap()
        .search(&v, 5, 64, None)
        .unwrap()
        .into_iter()
        .map(|(o, c)| (o, c, index.store().span(o).unwrap().text))
        .collect()
}

fn texts(hits: &[(u32, f32, String)]) -> Vec<&str> {
    hits.iter().map(|h| h.2.as_str()).collect()
}

#[test]
fn appended_commits_then_a_compaction_equal_a_fresh_build() {
    let e = common::embedder();
    let (_src, docs) = common::docs(&[
        (
            "alpha.md",
            &page("Travel", "The per diem is 60 EUR in Germany."),
        ),
        (
            "beta.md",
            &page("Security", "Passwords have at least 14 characters."),
        ),
        (
            "gamma.md",
            &page("Payroll", "Salaries are paid on the 25th."),
        ),
    ]);
    let live = tempfile::tempdir().unwrap();
    let first = build_into(live.path(), &docs, &BuildOptions::default(), e.as_ref());
    assert!(first.compacted, "a first build writes the whole index");

    // Edit one file, remove one, add one: appended, old spans tombstoned.
    std::fs::write(
        docs.join("alpha.md"),
        page("Travel", "The per diem is 75 EUR in Austria."),
    )
    .unwrap();
    std::fs::remove_file(docs.join("beta.md")).unwrap();
    std::fs::write(
        docs.join("delta.md"),
        page("Fleet", "Company cars are serviced every spring."),
    )
    .unwrap();
    let second = build_into(live.path(), &docs, &BuildOptions::default(), e.as_ref());
    assert!(second.committed && !second.compacted, "{second:?}");
    assert_eq!((second.added, second.updated, second.removed), (1, 1, 1));
    let index = Index::open(live.path()).unwrap();
    assert!(index.store().dead_spans() > 0);
    let austria = bm25(&index, "per diem Austria");
    assert!(
        texts(&austria)[0].contains("75 EUR in Austria"),
        "{austria:?}"
    );
    for (q, gone) in [
        ("per diem Germany", "60 EUR"),
        ("passwords characters", "14 characters"),
    ] {
        let hits = bm25(&index, q);
        assert!(hits.iter().all(|h| !h.2.contains(gone)), "{q}: {hits:?}");
        assert!(hits.iter().all(|h| index.store().is_live(h.0)));
    }
    if let Some(e) = &e {
        let hits = dense(&index, e, "When are company cars serviced?");
        assert!(hits[0].2.contains("serviced every spring"), "{hits:?}");
        let hits = dense(&index, e, "minimum password length");
        assert!(
            hits.iter().all(|h| !h.2.contains("14 characters")),
            "{hits:?}"
        );
    }

    // A fresh build of the same files: same counts now, same everything
    // once the live index is compacted.
    let fresh = tempfile::tempdir().unwrap();
    build_into(fresh.path(), &docs, &BuildOptions::default(), e.as_ref());
    let fresh = Index::open(fresh.path()).unwrap();
    assert_eq!(index.manifest().counts, fresh.manifest().counts);
    assert_eq!(index.manifest().id, fresh.manifest().id);

    let compact = BuildOptions {
        compact: true,
        ..BuildOptions::default()
    };
    let third = build_into(live.path(), &docs, &compact, e.as_ref());
    assert!(third.committed && third.compacted);
    assert_eq!(third.embedded, 0, "a compaction reuses every vector");
    let index = Index::open(live.path()).unwrap();
    assert_eq!(index.store().dead_spans(), 0);
    assert_eq!(index.manifest().counts, fresh.manifest().counts);
    let spans = |i: &Index| {
        i.store()
            .spans()
            .map(|(o, s)| (o, s.id.0, s.text))
            .collect::<Vec<_>>()
    };
    assert_eq!(spans(&index), spans(&fresh));
    for q in ["per diem Austria", "company cars", "salaries paid", "desk"] {
        assert_eq!(bm25(&index, q), bm25(&fresh, q), "{q}");
        if let Some(e) = &e {
            assert_eq!(dense(&index, e, q), dense(&fresh, e, q), "{q}");
        }
    }
}

#[test]
fn the_writer_stages_commits_and_leaves_old_readers_their_state() {
    let idx = tempfile::tempdir().unwrap();
    let opts = BuildOptions::default();
    let mut w = Writer::open(idx.path(), &opts, None).unwrap();
    let second = Writer::open(idx.path(), &opts, None).unwrap_err();
    assert!(matches!(second, IndexError::Locked { .. }), "{second}");

    w.upsert("notes/a.md", b"# A\n\nAlpha tea is served at nine.\n")
        .unwrap();
    w.upsert(
        "notes/b.jsonl",
        b"{\"id\": 1, \"text\": \"Beta coffee is strong.\"}\n",
    )
    .unwrap();
    for bad in [
        "",
        "/abs/a.md",
        "notes//a.md",
        "./a.md",
        "a\\b.md",
        "notes/../a.md",
    ] {
        let err = w.upsert(bad, b"# X\n\ntext\n").unwrap_err();
        assert!(matches!(err, IndexError::BadPath(_)), "{bad:?}: {err}");
    }
    assert!(w.upsert("notes/c.png", b"\x89PNG").is_err());
    assert_eq!(w.pending(), 2);
    let mut report = BuildReport::default();
    let c = w.commit(&mut report, &mut |_| {}).unwrap();
    assert!(c.committed);
    assert_eq!(w.pending(), 0);

    // A reader of this state keeps it while the writer moves on.
    let old = Index::open(idx.path()).unwrap();
    assert_eq!(
        w.upsert("notes/a.md", b"# A\n\nAlpha tea is served at nine.\n")
            .unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(w.pending(), 0, "identical content stages nothing");
    w.upsert("notes/a.md", b"# A\n\nAlpha chamomile is served at ten.\n")
        .unwrap();
    assert!(w.delete("notes/b.jsonl"));
    assert!(!w.delete("notes/never.md"));
    let c = w.commit(&mut report, &mut |_| {}).unwrap();
    assert!(c.committed && !c.compacted);
    for n in 0..3 {
        w.upsert(
            &format!("notes/more-{n}.md"),
            format!("# M{n}\n\nFiller page {n}.\n").as_bytes(),
        )
        .unwrap();
        w.commit(&mut report, &mut |_| {}).unwrap();
    }

    let new = Index::open(idx.path()).unwrap();
    assert!(bm25(&new, "beta coffee").is_empty());
    assert!(texts(&bm25(&new, "chamomile"))[0].contains("ten"));
    assert_eq!(new.manifest().counts.files, 4);
    let hits = bm25(&old, "beta coffee");
    assert!(texts(&hits)[0].contains("Beta coffee"), "{hits:?}");
    assert!(bm25(&old, "chamomile").is_empty());
    assert_eq!(old.manifest().counts.files, 2);

    drop(w);
    assert!(
        Writer::open(idx.path(), &opts, None).is_ok(),
        "the lock is released"
    );
}

#[test]
fn chunked_builds_and_compactions_equal_one_chunk() {
    let e = common::embedder();
    let pages: Vec<(String, String)> = (0..12)
        .map(|i| {
            let fact = format!(
                "Office {i} opens at {} o'clock and closes at {}.",
                7 + i % 3,
                16 + i % 4
            );
            (
                format!("office-{i:02}.md"),
                page(&format!("Office {i}"), &fact),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = pages
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let (_src, docs) = common::docs(&refs);
    let one = tempfile::tempdir().unwrap();
    build_into(one.path(), &docs, &BuildOptions::default(), e.as_ref());
    let small = BuildOptions {
        chunk_spans: Some(10),
        ..BuildOptions::default()
    };
    let chunked = tempfile::tempdir().unwrap();
    build_into(chunked.path(), &docs, &small, e.as_ref());
    let (one, chunked_index) = (
        Index::open(one.path()).unwrap(),
        Index::open(chunked.path()).unwrap(),
    );
    assert!(
        chunked_index.store().segment_count() > 3,
        "chunks became segments"
    );
    let spans = |i: &Index| {
        i.store()
            .spans()
            .map(|(o, s)| (o, s.id.0, s.text))
            .collect::<Vec<_>>()
    };
    assert_eq!(spans(&one), spans(&chunked_index));
    assert_eq!(one.manifest().counts, chunked_index.manifest().counts);
    for q in ["office opens", "Office 7 closes", "desk"] {
        assert_eq!(bm25(&one, q), bm25(&chunked_index, q), "{q}");
        if let Some(e) = &e {
            assert_eq!(dense(&one, e, q), dense(&chunked_index, e, q), "{q}");
        }
    }

    // Edits appended in chunks, then a chunked compaction: the same again.
    for i in [2, 5, 9] {
        std::fs::write(
            docs.join(format!("office-{i:02}.md")),
            page("Moved", &format!("Office {i} moved to the harbour.")),
        )
        .unwrap();
    }
    let r = build_into(chunked.path(), &docs, &small, e.as_ref());
    assert!(!r.compacted && r.updated == 3, "{r:?}");
    let compact = BuildOptions {
        compact: true,
        ..small.clone()
    };
    assert!(build_into(chunked.path(), &docs, &compact, e.as_ref()).compacted);
    let fresh = tempfile::tempdir().unwrap();
    build_into(fresh.path(), &docs, &BuildOptions::default(), e.as_ref());
    let (fresh, chunked_index) = (
        Index::open(fresh.path()).unwrap(),
        Index::open(chunked.path()).unwrap(),
    );
    assert_eq!(spans(&fresh), spans(&chunked_index));
    for q in ["harbour", "office opens"] {
        assert_eq!(bm25(&fresh, q), bm25(&chunked_index, q), "{q}");
        if let Some(e) = &e {
            assert_eq!(dense(&fresh, e, q), dense(&chunked_index, e, q), "{q}");
        }
    }
}

#[test]
fn a_server_compacts_when_it_chooses() {
    let idx = tempfile::tempdir().unwrap();
    let opts = BuildOptions {
        compaction: bubble_index::Compaction {
            fraction: 0.1,
            min_spans: 0,
            automatic: false,
            ..Default::default()
        },
        ..BuildOptions::default()
    };
    let mut w = Writer::open(idx.path(), &opts, None).unwrap();
    let mut report = BuildReport::default();
    for n in 0..4 {
        w.upsert(
            &format!("p{n}.md"),
            page(&format!("Team {n}"), "Meets on Mondays.").as_bytes(),
        )
        .unwrap();
    }
    w.commit(&mut report, &mut |_| {}).unwrap();
    assert!(!w.needs_compaction());
    w.upsert("p0.md", page("Team 0", "Meets on Fridays now.").as_bytes())
        .unwrap();
    let c = w.commit(&mut report, &mut |_| {}).unwrap();
    assert!(!c.compacted, "not automatic");
    assert!(w.needs_compaction());
    assert!(w.index().unwrap().store().dead_spans() > 0);
    w.upsert("p1.md", page("Team 1", "Meets on Tuesdays now.").as_bytes())
        .unwrap();
    let c = w.compact(&mut report, &mut |_| {}).unwrap();
    assert!(c.committed && c.compacted);
    let index = w.index().unwrap();
    assert_eq!(index.store().dead_spans(), 0);
    assert!(!w.needs_compaction());
    assert!(texts(&bm25(index, "Tuesdays"))[0].contains("Tuesdays"));
    let mut mondays: Vec<String> = bm25(index, "Mondays")
        .iter()
        .map(|h| index.store().doc_of(h.0).unwrap().source)
        .collect();
    mondays.dedup();
    assert_eq!(
        mondays,
        ["p2.md", "p3.md"],
        "p0 and p1 moved their meetings"
    );
}
