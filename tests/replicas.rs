//! Several `bubble serve` processes on one PostgreSQL database: a write
//! through one is read through the other once committed, killing one loses
//! nothing it acknowledged, a streaming standby serves reads once it has
//! replayed the primary's writes, and a database restart is an outage the
//! servers answer with 503s and then recover from. And the two stores give
//! the same bubbles for the same corpus.

mod common;

use bubble_postgres::testing;
use common::Server;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// BM25 only: the tests are about the store, not the model.
const SERVE: [&str; 1] = ["--no-embed"];

fn note(token: &str) -> String {
    format!("# Note {token}\n\nThe code word of this note is {token}. It is kept on file.\n")
}

fn put(server: &Server, id: &str, text: &str) -> u16 {
    server
        .json(
            "PUT",
            &format!("/v1/documents/{id}"),
            json!({"content": text}),
        )
        .status
}

/// The source of the best BM25 hit for `query`, if any.
fn found(server: &Server, query: &str) -> Option<String> {
    let r = server.json(
        "POST",
        "/v1/search",
        json!({"query": query, "mode": "bm25", "k": 1}),
    );
    (r.status == 200)
        .then(|| r.value()["hits"][0]["source"].as_str().map(str::to_string))
        .flatten()
}

/// Polls `check` until it holds or `secs` pass.
fn eventually(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

#[test]
fn two_servers_share_one_database_and_a_killed_one_loses_nothing() {
    let Some(url) = testing::database() else {
        return;
    };
    let source = ["--store", url.as_str()];
    let a = Server::launch(&source, &SERVE, &[]);
    let b = Server::launch(&source, &SERVE, &[]);
    // Before any write the store is empty: a clear 503, not a crash.
    assert_eq!(b.call("GET", "/readyz", b"").status, 503);
    assert_eq!(put(&a, "notes/first.md", &note("aardvark")), 200);
    // Committed through A, visible through B at once.
    assert_eq!(found(&b, "aardvark").as_deref(), Some("notes/first.md"));
    let doc = b.call("GET", "/v1/documents/notes/first.md", b"");
    assert_eq!(doc.status, 200);
    assert_eq!(
        doc.value()["content_hash"],
        blake3::hash(note("aardvark").as_bytes()).to_hex().as_str()
    );
    // Both write at once; A is killed mid-way.
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let writers: Vec<_> = [(a.addr, "a"), (b.addr, "b")]
        .into_iter()
        .flat_map(|(addr, name)| (0..3).map(move |w| (addr, format!("{name}{w}"))))
        .map(|(addr, who)| {
            let acked = acked.clone();
            std::thread::spawn(move || {
                for i in 0..40 {
                    let token = format!("tok{who}x{i}");
                    let id = format!("burst/{who}-{i}.md");
                    let body = serde_json::to_vec(&json!({"content": note(&token)})).unwrap();
                    let r = std::panic::catch_unwind(|| {
                        common::http(
                            addr,
                            "PUT",
                            &format!("/v1/documents/{id}"),
                            &[("content-type", "application/json")],
                            &body,
                        )
                    });
                    match r {
                        Ok(reply) if reply.status == 200 => acked.lock().unwrap().push((id, token)),
                        _ => return,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    drop(a); // SIGKILL
    for w in writers {
        let _ = w.join();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.iter().any(|(id, _)| id.contains("/a")),
        "A acknowledged some"
    );
    // Every acknowledged write, from either server, is in the store.
    for (id, token) in &acked {
        assert_eq!(found(&b, token).as_deref(), Some(id.as_str()), "{id} lost");
    }
    let listed = b.call("GET", "/v1/documents?limit=1000", b"").value();
    assert!(listed["total"].as_u64().unwrap() as usize > acked.len());
}

#[test]
fn a_streaming_standby_serves_reads_after_replay() {
    let Some(url) = testing::database() else {
        return;
    };
    let primary = Server::launch(&["--store", &url], &SERVE, &[]);
    assert_eq!(put(&primary, "notes/before.md", &note("beaver")), 200);
    // A standby of the test server, streaming from it.
    let name = format!("standby{}", std::process::id());
    let standby_url = testing::script(&["standby", &name, "test"]).expect("a standby starts");
    let db = url.rsplit_once('/').unwrap().1;
    let replica = Server::launch(
        &["--store", &testing::with_database(&standby_url, db)],
        &SERVE,
        &[],
    );
    assert_eq!(
        found(&replica, "beaver").as_deref(),
        Some("notes/before.md")
    );
    // A write to the primary reaches the replica once the standby replays it.
    assert_eq!(put(&primary, "notes/after.md", &note("bison")), 200);
    assert!(
        eventually(30, || found(&replica, "bison").as_deref()
            == Some("notes/after.md")),
        "the standby never showed the write"
    );
    // The replica is read-only: a write there is refused, not half-done.
    let refused = put(&replica, "notes/there.md", &note("camel"));
    assert!(refused >= 500, "{refused}");
    assert!(found(&primary, "camel").is_none());
    drop(replica);
    let _ = testing::script(&["remove", &name]);
}

#[test]
fn a_database_restart_is_an_outage_then_a_recovery() {
    // A server of its own: stopping it must not stop the other tests'.
    let name = format!("restart{}", std::process::id());
    let Some(url) = testing::database_on(&name) else {
        return;
    };
    let server = Server::launch(&["--store", &url], &SERVE, &[]);
    assert_eq!(put(&server, "notes/one.md", &note("dingo")), 200);
    testing::script(&["stop", &name]).unwrap();
    // Down: clear 503s, and the process stays up.
    let r = server.json(
        "POST",
        "/v1/search",
        json!({"query": "dingo", "mode": "bm25"}),
    );
    assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.error().contains("unavailable"), "{}", r.error());
    assert_eq!(put(&server, "notes/two.md", &note("eland")), 503);
    server.healthy();
    // Back: the pool reconnects, and what was committed is there.
    testing::script(&["start", &name]).unwrap();
    assert!(
        eventually(30, || found(&server, "dingo").as_deref()
            == Some("notes/one.md")),
        "no recovery after the restart"
    );
    assert_eq!(put(&server, "notes/two.md", &note("eland")), 200);
    assert_eq!(found(&server, "eland").as_deref(), Some("notes/two.md"));
    let v: Value = server.call("GET", "/readyz", b"").value();
    assert_eq!(v["status"], "ready");
    drop(server);
    let _ = testing::script(&["remove", &name]);
}

/// The same corpus in an index folder and in a database gives the same
/// bubble, byte for byte, for every shipped pipeline.
#[test]
fn both_stores_give_the_same_bubbles() {
    let Some(url) = testing::database() else {
        return;
    };
    let root = env!("CARGO_MANIFEST_DIR");
    let bubble = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_bubble"))
            .current_dir(root)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let idx = idx.to_str().unwrap();
    bubble(&["index", "corpora/acme", "--index", idx]);
    bubble(&["index", "corpora/acme", "--store", &url]);
    for pipeline in ["default", "compressed", "multihop", "paper", "topk"] {
        for q in [
            "What is the per diem in Germany?",
            "expense report deadline and laptop refresh",
        ] {
            let args = ["--budget", "400", "--pipeline", pipeline, q];
            let a = bubble(&[&["context", "--index", idx][..], &args].concat());
            let b = bubble(&[&["context", "--store", &url][..], &args].concat());
            assert!(!a.is_empty());
            assert!(a == b, "{pipeline} / {q}: the stores disagree");
        }
    }
}
