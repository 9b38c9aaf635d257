//! The REST API, against the real `bubble serve` on loopback: every
//! endpoint, bad input, keys and scopes, and kill -9 during writes.

mod common;

use bubble_index::Index;
use common::{http, Server};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn acme_index(dir: &Path, no_embed: bool) {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bubble"));
    cmd.current_dir(root)
        .args(["index", "corpora/acme", "--index", dir.to_str().unwrap()]);
    if no_embed {
        cmd.arg("--no-embed");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_endpoint_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    acme_index(&idx, false);
    let server = Server::start(&idx, &[], &[]);
    server.healthy();
    let ready = server.call("GET", "/readyz", b"");
    assert_eq!(ready.status, 200);
    let generation = ready.value()["generation"].as_u64().unwrap();
    assert!(ready.head.to_ascii_lowercase().contains("x-request-id: "));

    for mode in ["bm25", "dense", "hybrid"] {
        let r = server.json(
            "POST",
            "/v1/search",
            json!({"query": "refund policy", "mode": mode, "k": 5}),
        );
        assert_eq!(
            r.status,
            200,
            "{mode}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let v = r.value();
        let hits = v["hits"].as_array().unwrap();
        assert!(!hits.is_empty() && hits.len() <= 5, "{mode}: {v}");
        if mode == "hybrid" {
            assert!(
                hits.iter()
                    .any(|h| h["bm25"].is_object() && h["dense"].is_object()),
                "{v}"
            );
        }
    }
    let filtered = server.json(
        "POST",
        "/v1/search",
        json!({"query": "expenses travel", "mode": "bm25", "k": 20, "filters": {"paths": ["corpora/acme/policies/**"]}}),
    );
    let hits = filtered.value()["hits"].as_array().unwrap().clone();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["source"]
        .as_str()
        .unwrap()
        .starts_with("corpora/acme/policies/")));

    let mut trace_id = String::new();
    for pipeline in ["default", "compressed", "multihop", "paper", "topk"] {
        let r = server.json(
            "POST",
            "/v1/context",
            json!({"query": "How long do refunds take?", "budget": 300, "pipeline": pipeline}),
        );
        assert_eq!(
            r.status,
            200,
            "{pipeline}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let v = r.value();
        let tokens = v["bubble"]["tokens"].as_u64().unwrap();
        assert!(tokens > 0 && tokens <= 300, "{pipeline}: {v}");
        assert!(v["trace"].is_null());
        trace_id = v["trace_id"].as_str().unwrap().to_string();
    }
    let traced = server.json(
        "POST",
        "/v1/context",
        json!({"query": "How long do refunds take?", "budget": 200, "trace": true, "tokenizer": "o200k_base"}),
    );
    let v = traced.value();
    assert_eq!(v["trace"]["trace_id"], v["trace_id"], "{v}");
    assert_eq!(v["trace"]["request"]["tokenizer"], "o200k_base");
    let trace = server.call("GET", &format!("/v1/traces/{trace_id}"), b"");
    assert_eq!(trace.status, 200);
    assert_eq!(trace.value()["trace_id"], trace_id.as_str());
    assert_eq!(server.call("GET", "/v1/traces/nope", b"").status, 404);

    let batch = server.json(
        "POST",
        "/v1/context/batch",
        json!({"requests": [
            {"query": "refunds", "budget": 100},
            {"query": "pricing of the pro plan", "budget": 100, "filters": {"kinds": ["row"]}}
        ]}),
    );
    assert_eq!(
        batch.status,
        200,
        "{}",
        String::from_utf8_lossy(&batch.body)
    );
    let results = batch.value()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 2);
    assert!(
        results.iter().all(|r| r["bubble"].is_object()),
        "{results:?}"
    );

    // Live documents: a 2xx means committed, and the next search sees it.
    let doc = "# Zephyr\n\nThe zephyrine escalation path goes through the night desk.\n";
    let put = server.json(
        "PUT",
        "/v1/documents/live/zephyr.md",
        json!({"content": doc, "format": "markdown"}),
    );
    assert_eq!(put.status, 200, "{}", String::from_utf8_lossy(&put.body));
    let put = put.value();
    assert_eq!(put["changed"], true);
    assert!(put["generation"].as_u64().unwrap() > generation);
    let again = server.json(
        "PUT",
        "/v1/documents/live/zephyr.md",
        json!({"content": doc}),
    );
    assert_eq!(again.value()["changed"], false);
    let raw = http(
        server.addr,
        "PUT",
        "/v1/documents/live/raw.txt",
        &[("content-type", "text/plain")],
        b"Quokkas keep the raw ledger.\n",
    );
    assert_eq!(raw.status, 200, "{}", String::from_utf8_lossy(&raw.body));
    let found = server.json(
        "POST",
        "/v1/search",
        json!({"query": "zephyrine escalation", "mode": "bm25", "k": 3}),
    );
    assert_eq!(found.value()["hits"][0]["source"], "live/zephyr.md");
    let got = server.call("GET", "/v1/documents/live/zephyr.md", b"");
    assert_eq!(got.status, 200);
    assert_eq!(
        got.value()["content_hash"],
        blake3::hash(doc.as_bytes()).to_hex().to_string()
    );
    let list = server.call("GET", "/v1/documents?limit=1000", b"").value();
    let ids: Vec<&str> = list["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"live/zephyr.md") && ids.contains(&"live/raw.txt"),
        "{ids:?}"
    );
    assert_eq!(list["total"].as_u64().unwrap() as usize, ids.len());
    let page = server
        .call("GET", "/v1/documents?offset=1&limit=2", b"")
        .value();
    assert_eq!(page["documents"].as_array().unwrap().len(), 2);
    assert_eq!(page["documents"][0]["id"], list["documents"][1]["id"]);
    assert_eq!(
        server
            .call("DELETE", "/v1/documents/live/zephyr.md", b"")
            .status,
        200
    );
    assert_eq!(
        server
            .call("GET", "/v1/documents/live/zephyr.md", b"")
            .status,
        404
    );
    assert_eq!(
        server
            .call("DELETE", "/v1/documents/live/zephyr.md", b"")
            .status,
        404
    );
    let gone = server.json(
        "POST",
        "/v1/search",
        json!({"query": "zephyrine", "mode": "bm25", "k": 3}),
    );
    assert!(gone.value()["hits"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["source"] != "live/zephyr.md"));

    let metrics = String::from_utf8(server.call("GET", "/metrics", b"").body).unwrap();
    assert!(
        metrics.contains("bubble_requests_total{route=\"/v1/search\",status=\"200\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("bubble_request_seconds_bucket{route=\"/v1/context\""));
    assert!(metrics.contains("bubble_index_generation "));
}

#[test]
fn bad_input_gets_a_clear_4xx_and_the_server_stays_healthy() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    acme_index(&idx, true);
    let server = Server::start(&idx, &["--no-embed"], &[]);
    let deep = format!("{}1{}", "{\"a\":[".repeat(300), "]}".repeat(300));
    let long = "word ".repeat(20_000);
    let big = vec![b'x'; 50 * 1024 * 1024];
    let ctx = |v: Value| serde_json::to_vec(&v).unwrap();
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "POST",
            "/v1/context",
            b"{not json".to_vec(),
            400,
            "invalid JSON",
        ),
        ("POST", "/v1/context", b"".to_vec(), 400, "empty"),
        (
            "POST",
            "/v1/context",
            ctx(json!({"query": 5, "budget": 10})),
            400,
            "invalid type",
        ),
        (
            "POST",
            "/v1/context",
            ctx(json!({"query": "x", "budget": "ten"})),
            400,
            "invalid type",
        ),
        (
            "POST",
            "/v1/context",
            vec![b'{', 0xff, 0xfe, b'}'],
            400,
            "UTF-8",
        ),
        ("POST", "/v1/context", big, 413, "limit"),
        (
            "POST",
            "/v1/context",
            ctx(json!({"query": "refunds", "budget": 0})),
            400,
            "budget",
        ),
        (
            "POST",
            "/v1/context",
            ctx(json!({"query": "refunds", "budget": -5})),
            400,
            "invalid value",
        ),
        (
            "POST",
            "/v1/context",
            ctx(json!({"query": "refunds", "budget": 1_000_000_000u64})),
            400,
            "budget",
        ),
        (
            "POST",
            "/v1/context",
            ctx(json!({"query": "  ", "budget": 100})),
            400,
            "empty",
        ),
        (
            "POST",
            "/v1/context",
            ctx(json!({"query": long, "budget": 100})),
            400,
            "bytes",
        ),
        (
            "POST",
            "/v1/context",
            ctx(json!({"query": "x", "budget": 100, "pipeline": "nope"})),
            400,
            "unknown pipeline",
        ),
        (
            "POST",
            "/v1/context",
            ctx(
                json!({"query": "x", "budget": 100, "pipeline": {"name": "p", "steps": [{"op": "teleport"}]}}),
            ),
            400,
            "teleport",
        ),
        (
            "POST",
            "/v1/context",
            format!("{{\"query\": \"x\", \"budget\": 100, \"pipeline\": {deep}}}").into_bytes(),
            400,
            "recursion",
        ),
        (
            "POST",
            "/v1/context",
            ctx(json!({"query": "x", "budget": 100, "surprise": 1})),
            400,
            "unknown field",
        ),
        (
            "POST",
            "/v1/context",
            ctx(json!({"query": "x", "budget": 100, "tokenizer": "/etc/passwd"})),
            400,
            "unknown tokenizer",
        ),
        (
            "POST",
            "/v1/context",
            ctx(json!({"query": "x", "budget": 100, "filters": {"kinds": ["blob"]}})),
            400,
            "unknown span kind",
        ),
        (
            "POST",
            "/v1/context/batch",
            ctx(json!({"requests": []})),
            400,
            "batch",
        ),
        (
            "POST",
            "/v1/search",
            ctx(json!({"query": "x", "k": 0})),
            400,
            "k must be",
        ),
        (
            "POST",
            "/v1/search",
            ctx(json!({"query": "x", "k": 1_000_000_000_000u64})),
            400,
            "k must be",
        ),
        (
            "POST",
            "/v1/search",
            ctx(json!({"query": "x", "ef": 1_000_000})),
            400,
            "ef",
        ),
        (
            "POST",
            "/v1/search",
            ctx(json!({"query": "x", "rrf_k": 0})),
            400,
            "rrf",
        ),
        (
            "POST",
            "/v1/search",
            ctx(json!({"query": "x", "mode": "psychic"})),
            400,
            "unknown variant",
        ),
        (
            "PUT",
            "/v1/documents/a/../../etc/passwd.md",
            b"x".to_vec(),
            400,
            "bad document id",
        ),
        (
            "PUT",
            "/v1/documents/notes/photo.png",
            b"x".to_vec(),
            400,
            "extension",
        ),
        (
            "PUT",
            "/v1/documents/notes/a.md",
            vec![0xff, 0xfe, 0x00],
            400,
            "UTF-8",
        ),
        ("GET", "/v1/documents?limit=0", Vec::new(), 400, "limit"),
        (
            "GET",
            "/v1/documents?offset=banana",
            Vec::new(),
            400,
            "offset",
        ),
        ("GET", "/v2/everything", Vec::new(), 404, "no such route"),
        ("DELETE", "/v1/search", Vec::new(), 405, "method"),
    ];
    for (method, path, body, want, says) in cases {
        let headers: &[(&str, &str)] = &[("content-type", "application/json")];
        let r = http(server.addr, method, path, headers, &body);
        let message = r.error();
        assert_eq!(r.status, want, "{method} {path}: {message}");
        assert!(
            message.to_lowercase().contains(&says.to_lowercase()),
            "{method} {path}: {message:?} should mention {says:?}"
        );
        server.healthy();
    }
}

#[test]
fn keys_and_scopes_decide_who_reads_and_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    acme_index(&idx, true);
    let config = tmp.path().join("bubble.toml");
    std::fs::write(
        &config,
        format!(
            "[[keys]]\nname = \"reader\"\nhash = \"{}\"\nscopes = [\"read\"]\n",
            bubble_server::hash_secret("reader-secret")
        ),
    )
    .unwrap();
    let server = Server::start(
        &idx,
        &["--no-embed", "--config", config.to_str().unwrap()],
        &[("BUBBLE_API_KEYS", "write:writer-secret")],
    );
    let search = serde_json::to_vec(&json!({"query": "refunds", "mode": "bm25"})).unwrap();
    let with = |key: Option<&str>, method: &str, path: &str, body: &[u8]| {
        let auth = key.map(|k| format!("Bearer {k}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("authorization", a.as_str()));
        }
        http(server.addr, method, path, &headers, body)
    };
    assert_eq!(with(None, "POST", "/v1/search", &search).status, 401);
    assert_eq!(
        with(Some("guess"), "POST", "/v1/search", &search).status,
        401
    );
    assert_eq!(
        with(Some("reader-secret"), "POST", "/v1/search", &search).status,
        200
    );
    let doc = serde_json::to_vec(&json!({"content": "# K\n\nKeyed text.\n"})).unwrap();
    let denied = with(Some("reader-secret"), "PUT", "/v1/documents/k.md", &doc);
    assert_eq!(denied.status, 403);
    assert!(denied.error().contains("write"));
    assert_eq!(
        with(Some("writer-secret"), "PUT", "/v1/documents/k.md", &doc).status,
        200
    );
    assert_eq!(
        with(Some("writer-secret"), "POST", "/v1/search", &search).status,
        200
    );
    let x_api_key = http(
        server.addr,
        "GET",
        "/v1/documents/k.md",
        &[("x-api-key", "reader-secret")],
        b"",
    );
    assert_eq!(x_api_key.status, 200);
    // Probes stay open to orchestrators.
    server.healthy();

    // Without keys, only loopback.
    let out = Command::new(env!("CARGO_BIN_EXE_bubble"))
        .args([
            "serve",
            "--index",
            idx.to_str().unwrap(),
            "--no-embed",
            "--addr",
            "0.0.0.0:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("without API keys"));
}

/// kill -9 in the middle of a burst of concurrent upserts: after a
/// restart every acknowledged document is there, whole, and searchable.
#[test]
fn kill_9_during_concurrent_upserts_loses_no_acknowledged_document() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    acme_index(&idx, true);
    for round in 0..3u32 {
        let server = Server::start(&idx, &["--no-embed"], &[]);
        let acked: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
        let addr = server.addr;
        let workers: Vec<_> = (0..8)
            .map(|w| {
                let acked = acked.clone();
                std::thread::spawn(move || {
                    for i in 0.. {
                        let id = format!("burst/r{round}-w{w}-{i}.md");
                        let token = format!("tok{round}x{w}x{i}");
                        let body: String = (0..30)
                            .map(|p| format!("Paragraph {p} mentions {token} and the burst.\n\n"))
                            .collect();
                        let doc = format!("# Burst {token}\n\n{body}");
                        let payload = serde_json::to_vec(&json!({"content": doc})).unwrap();
                        let Ok(mut s) = TcpStream::connect(addr) else { return };
                        let head = format!(
                            "PUT /v1/documents/{id} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            payload.len()
                        );
                        if s.write_all(head.as_bytes()).and_then(|_| s.write_all(&payload)).is_err() {
                            return;
                        }
                        let mut raw = Vec::new();
                        let _ = s.read_to_end(&mut raw);
                        if raw.starts_with(b"HTTP/1.1 200") {
                            let hash = blake3::hash(doc.as_bytes()).to_hex().to_string();
                            acked.lock().unwrap().push((id, hash, token));
                        } else {
                            return;
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(700 + 400 * round as u64));
        drop(server); // SIGKILL
        for w in workers {
            w.join().unwrap();
        }
        let acked = acked.lock().unwrap().clone();
        assert!(
            !acked.is_empty(),
            "round {round}: nothing was acknowledged before the kill"
        );
        let index = Index::open(&idx).expect("the index opens after kill -9");
        let files = index.store().files();
        for (id, hash, _) in &acked {
            let f = files
                .iter()
                .find(|f| &f.path == id)
                .unwrap_or_else(|| panic!("round {round}: acknowledged {id} is missing"));
            assert_eq!(&f.content_hash, hash, "{id} half-applied");
        }
        // And searchable through a restarted server.
        let server = Server::start(&idx, &["--no-embed"], &[]);
        let (id, _, token) = acked.last().unwrap();
        let hits = server.json(
            "POST",
            "/v1/search",
            json!({"query": token, "mode": "bm25", "k": 1}),
        );
        assert_eq!(
            hits.value()["hits"][0]["source"],
            id.as_str(),
            "round {round}"
        );
    }
}

/// SIGTERM: requests in flight are answered and the process exits cleanly.
#[test]
fn sigterm_finishes_in_flight_writes_and_exits() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    acme_index(&idx, true);
    let mut server = Server::start(&idx, &["--no-embed"], &[]);
    let addr = server.addr;
    let writers: Vec<_> = (0..4)
        .map(|w| {
            std::thread::spawn(move || {
                let doc = format!("# T{w}\n\nTerm {w} text.\n");
                let body = serde_json::to_vec(&json!({"content": doc})).unwrap();
                http(
                    addr,
                    "PUT",
                    &format!("/v1/documents/term/t{w}.md"),
                    &[("content-type", "application/json")],
                    &body,
                )
                .status
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let statuses: Vec<u16> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let status = server.child.wait().unwrap();
    assert!(status.success(), "exit {status:?}");
    let index = Index::open(&idx).unwrap();
    for (w, s) in statuses.iter().enumerate() {
        let held = index
            .store()
            .files()
            .iter()
            .any(|f| f.path == format!("term/t{w}.md"));
        // Answered 200 means committed; a request refused at shutdown left nothing.
        assert_eq!(*s == 200, held, "t{w}: status {s}, held {held}");
    }
}

/// `/openapi.json` describes exactly the routes the router serves: every
/// documented operation answers (not the fallback's 404 or a 405), and
/// every route these tests use is documented.
#[test]
fn openapi_lists_every_route_the_router_serves() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    acme_index(&idx, true);
    let server = Server::start(&idx, &["--no-embed"], &[]);
    let r = server.call("GET", "/openapi.json", b"");
    assert_eq!(r.status, 200);
    let api = r.value();
    assert!(
        api["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        api["openapi"]
    );
    let mut documented = std::collections::BTreeSet::new();
    for (path, item) in api["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["responses"].is_object(),
                "{method} {path} has no responses"
            );
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let used: std::collections::BTreeSet<(String, String)> = [
        ("POST", "/v1/context"),
        ("POST", "/v1/context/batch"),
        ("POST", "/v1/search"),
        ("GET", "/v1/traces/{id}"),
        ("GET", "/v1/documents"),
        ("GET", "/v1/documents/{id}"),
        ("PUT", "/v1/documents/{id}"),
        ("DELETE", "/v1/documents/{id}"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    assert_eq!(
        documented, used,
        "documented routes differ from the served ones"
    );
    for (method, path) in &documented {
        let concrete = path.replace("{id}", "x.md");
        let r = http(
            server.addr,
            method,
            &concrete,
            &[("content-type", "application/json")],
            b"{}",
        );
        let fallback =
            r.status == 404 && String::from_utf8_lossy(&r.body).contains("no such route");
        assert!(
            !fallback && r.status != 405,
            "{method} {concrete}: {}",
            r.status
        );
    }
}
