//! End-to-end tests of the `bubble` binary.

use bubble_index::Index;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

fn bubble() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bubble"))
}

fn run(args: &[&str]) -> Output {
    bubble().args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `bubble index DOCS --index IDX --no-embed`.
fn index_no_embed(docs: &Path, idx: &Path) -> Output {
    run(&[
        "index",
        docs.to_str().unwrap(),
        "--index",
        idx.to_str().unwrap(),
        "--no-embed",
    ])
}

fn write_docs(dir: &Path, from: usize, to: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for i in from..to {
        let body: String = (0..40)
            .map(|j| format!("Paragraph {j} of note {i} about pipelines and retention.\n\n"))
            .collect();
        std::fs::write(
            dir.join(format!("note-{i:05}.md")),
            format!("# Note {i}\n\n{body}"),
        )
        .unwrap();
    }
}

fn sources(index_dir: &Path) -> BTreeSet<String> {
    let index = Index::open(index_dir).expect("the index must open after a kill");
    index.store().docs().map(|d| d.source).collect()
}

/// Runs `bubble index DOCS --index IDX --no-embed EXTRA...`, killing it
/// with SIGKILL after each delay in turn, and calls `check` after each kill;
/// stops once `check` says the run had committed.
fn kill_during_index(
    docs: &Path,
    idx: &Path,
    extra: &[&str],
    mut check: impl FnMut(u64) -> bool,
) -> usize {
    let mut kills = 0;
    for delay_ms in [5, 30, 80, 150, 250, 400, 600, 900, 1300, 2000] {
        let mut child = bubble()
            .args([
                "index",
                docs.to_str().unwrap(),
                "--index",
                idx.to_str().unwrap(),
                "--no-embed",
            ])
            .args(extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        kills += 1;
        if check(delay_ms) {
            break;
        }
    }
    kills
}

/// The text of every live span of `name`, by ord.
fn file_text(index: &Index, name: &str) -> String {
    let store = index.store();
    store
        .docs()
        .filter(|d| d.source.ends_with(name))
        .flat_map(|d| {
            d.spans
                .clone()
                .filter_map(|o| store.span(o))
                .map(|s| s.text)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn kill_9_during_indexing_leaves_the_previous_index_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    let idx = tmp.path().join("index");
    write_docs(&docs, 0, 50);
    let o = index_no_embed(&docs, &idx);
    assert!(o.status.success(), "{}", text(&o));
    let before = sources(&idx);
    assert_eq!(before.len(), 50);

    // A large update (it rewrites the whole index), killed at many
    // moments: parsing, writing, committing.
    write_docs(&docs, 50, 1500);
    kill_during_index(&docs, &idx, &[], |delay_ms| {
        let after = sources(&idx);
        assert!(
            after.is_superset(&before),
            "documents lost after kill at {delay_ms} ms"
        );
        assert!(
            after.len() == 50 || after.len() == 1500,
            "partial commit: {} documents",
            after.len()
        );
        after.len() == 1500
    });
    // Whatever happened, the next run completes and sweeps leftovers.
    let o = index_no_embed(&docs, &idx);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(sources(&idx).len(), 1500);

    // Small edits (appended to the index), killed: each edited file reads
    // wholly old or wholly new, and all of them together.
    let old_text = file_text(&Index::open(&idx).unwrap(), "note-00007.md");
    let edited_names: Vec<String> = (0..1500)
        .step_by(50)
        .map(|i| format!("note-{i:05}.md"))
        .collect();
    for name in &edited_names {
        std::fs::write(
            docs.join(name),
            "# Revised\n\nRetention is now ninety days.\n",
        )
        .unwrap();
    }
    // Whether the edits are in, checking that they are all in or all out.
    let edited = || {
        let index = Index::open(&idx).expect("the index must open after a kill");
        assert_eq!(
            file_text(&index, "note-00007.md"),
            old_text,
            "an unedited file changed"
        );
        let states: BTreeSet<bool> = edited_names
            .iter()
            .map(|n| {
                let t = file_text(&index, n);
                assert!(!t.is_empty(), "{n} lost");
                t.contains("ninety days")
            })
            .collect();
        assert_eq!(states.len(), 1, "a commit applied in part");
        states.contains(&true)
    };
    kill_during_index(&docs, &idx, &[], |delay_ms| {
        assert_eq!(
            sources(&idx).len(),
            1500,
            "documents lost after kill at {delay_ms} ms"
        );
        edited()
    });
    let o = index_no_embed(&docs, &idx);
    assert!(o.status.success(), "{}", text(&o));
    assert!(edited());
    assert!(
        Index::open(&idx).unwrap().store().dead_spans() > 0,
        "small edits are appended, leaving tombstones"
    );

    // A compaction, killed: the index stays whole, before or after it.
    let appended = sources(&idx);
    kill_during_index(&docs, &idx, &["--compact"], |delay_ms| {
        assert_eq!(
            sources(&idx),
            appended,
            "documents lost in compaction killed at {delay_ms} ms"
        );
        assert!(edited());
        Index::open(&idx).unwrap().store().dead_spans() == 0
    });
    let leftovers = || -> Vec<String> {
        std::fs::read_dir(&idx)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.contains(".tmp"))
            .collect()
    };
    let o = index_no_embed(&docs, &idx);
    assert!(o.status.success(), "{}", text(&o));
    assert!(leftovers().is_empty(), "{:?}", leftovers());
}

#[test]
fn bad_input_is_reported_and_the_rest_indexed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("docs");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("good.md"), "# Good\n\nThis file is fine.\n").unwrap();
    std::fs::write(
        d.join("binary.txt"),
        [0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x1a],
    )
    .unwrap();
    std::fs::write(d.join("latin1.md"), b"caf\xe9 au lait\n").unwrap();
    std::fs::write(d.join("empty.md"), "").unwrap();
    std::fs::write(d.join("ragged.csv"), "a,b\n1\n2,3,4\n\"unclosed,5\n").unwrap();
    std::fs::write(
        d.join("bad.jsonl"),
        "{\"id\":1,\"text\":\"ok\"}\nnot json\n",
    )
    .unwrap();
    std::fs::write(d.join("broken.md.gz"), b"not gzip at all").unwrap();
    std::fs::write(d.join("picture.png"), [0u8; 16]).unwrap();
    let deep = format!(
        "{}<p>deep text</p>{}",
        "<div><ul><li>".repeat(50),
        "</li></ul></div>".repeat(50)
    );
    std::fs::write(d.join("deep.html"), deep).unwrap();
    let md_deep: String = (1..=50)
        .map(|i| format!("{} Level {i}\n\nText {i}.\n\n", "#".repeat(i.min(6))))
        .collect();
    std::fs::write(d.join("deep.md"), md_deep).unwrap();
    // 200 MB, sparse: refused by size before it is read.
    std::fs::File::create(d.join("huge.txt"))
        .unwrap()
        .set_len(200 * 1024 * 1024)
        .unwrap();
    let idx = tmp.path().join("index");
    let missing = tmp.path().join("missing");
    let o = run(&[
        "index",
        d.to_str().unwrap(),
        missing.to_str().unwrap(),
        "--index",
        idx.to_str().unwrap(),
        "--no-embed",
    ]);
    let out = text(&o);
    assert_eq!(
        o.status.code(),
        Some(3),
        "exit code must say files were skipped: {out}"
    );
    for (file, reason) in [
        ("binary.txt", "binary"),
        ("latin1.md", "invalid UTF-8"),
        ("empty.md", "empty"),
        ("huge.txt", "limit"),
        ("broken.md.gz", "gzip"),
        ("missing", "does not exist"),
    ] {
        let line = out
            .lines()
            .find(|l| l.starts_with("skipped") && l.contains(file));
        assert!(
            line.is_some_and(|l| l.contains(reason)),
            "{file}: no '{reason}' in {out}"
        );
    }
    assert!(
        out.contains("warning") && out.contains("bad.jsonl") && out.contains("line 2"),
        "{out}"
    );
    assert!(out.contains("ignored 1 files"), "{out}");
    let indexed = sources(&idx);
    for f in ["good.md", "ragged.csv", "bad.jsonl", "deep.html", "deep.md"] {
        assert!(
            indexed.iter().any(|s| s.ends_with(f)),
            "{f} not indexed: {indexed:?}"
        );
    }
}

#[test]
fn search_reports_channels_and_applies_filters() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("index");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora/acme");
    let o = run(&[
        "index",
        corpus.to_str().unwrap(),
        "--index",
        idx.to_str().unwrap(),
        "--no-embed",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let search = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "search",
            "--index",
            idx.to_str().unwrap(),
            "--json",
            "-k",
            "5",
        ];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    // Hybrid on a BM25-only index falls back and says so.
    let r = search(&["Business plan price"]);
    assert_eq!(r["mode"], "bm25");
    assert!(r["notices"][0].as_str().unwrap().contains("BM25 only"));
    let hits = r["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    for (i, h) in hits.iter().enumerate() {
        assert_eq!(h["bm25"]["position"], i as u64 + 1);
        assert!(h["byte_range"]["end"].as_u64() > h["byte_range"]["start"].as_u64());
    }
    let r = search(&["--path", "**/*.csv", "--kind", "row", "Business plan price"]);
    let hits = r["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    for h in hits {
        assert!(h["source"].as_str().unwrap().ends_with(".csv"), "{h}");
        assert_eq!(h["kind"], "row");
    }
    let o = run(&[
        "search",
        "--index",
        idx.to_str().unwrap(),
        "--kind",
        "chapter",
        "x",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("unknown span kind"));
}
