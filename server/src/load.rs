//! The load benchmark behind `bubble eval load`: the server started in
//! this process on loopback, driven by client threads over HTTP, beside
//! the same requests computed in process (no HTTP) for the ratio.
//!
//! Scenarios, each for the same number of seconds:
//! - `in-process`: one thread per worker, closed loop, no HTTP;
//! - `closed-loop`: `clients` connections, each sending its next request
//!   when the last is answered;
//! - `open-loop`: requests issued at a fixed rate whatever the answers do,
//!   latency counted from when each was due (no coordinated omission);
//! - `mixed`: the closed loop with a share of document upserts, after
//!   which every acknowledged upsert is looked up in the index.
//!
//! Queries are taken in turn from the list, so no two requests within one
//! pass over it are the same; the result cache should be off (`Config::
//! result_cache` = 0) for the numbers to mean work, not lookups.

use crate::client::Conn;
use crate::state::AppState;
use crate::ServerError;
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Distinct queries, taken in turn.
    pub queries: Vec<String>,
    /// Token budget of each context request.
    pub budget: usize,
    /// Concurrent clients of the closed and mixed loops.
    pub clients: usize,
    /// Seconds per scenario.
    pub seconds: f64,
    /// Requests per second of the open loop.
    pub rate: f64,
    /// Share of the mixed loop's requests that are upserts.
    pub upserts: f64,
}

/// One scenario's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Scenario name.
    pub scenario: String,
    /// Requests answered.
    pub requests: usize,
    /// Answers that were not 2xx.
    pub errors: usize,
    /// Of them, 5xx.
    pub server_errors: usize,
    /// Requests per second.
    pub qps: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
    /// Upserts acknowledged (mixed only).
    pub upserts_acked: usize,
    /// Acknowledged upserts missing from the index afterwards (mixed only).
    pub upserts_lost: usize,
}

#[derive(Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    errors: usize,
    server_errors: usize,
    acked: Vec<(String, String)>,
}

impl Tally {
    fn record(&mut self, ms: f64, status: u16) {
        self.latencies_ms.push(ms);
        if !(200..300).contains(&status) {
            self.errors += 1;
        }
        if status >= 500 {
            self.server_errors += 1;
        }
    }

    fn row(mut self, scenario: &str, seconds: f64) -> Row {
        self.latencies_ms.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let n = self.latencies_ms.len();
            if n == 0 {
                return 0.0;
            }
            self.latencies_ms[((n as f64 * q).ceil() as usize).clamp(1, n) - 1]
        };
        Row {
            scenario: scenario.to_string(),
            requests: self.latencies_ms.len(),
            errors: self.errors,
            server_errors: self.server_errors,
            qps: self.latencies_ms.len() as f64 / seconds,
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            max_ms: self.latencies_ms.last().copied().unwrap_or(0.0),
            upserts_acked: self.acked.len(),
            upserts_lost: 0,
        }
    }
}

fn context_body(query: &str, budget: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"query": query, "budget": budget})).unwrap_or_default()
}

/// Runs every scenario against `state` (served on loopback here).
pub fn run(state: Arc<AppState>, opts: &LoadOptions) -> Result<Vec<Row>, ServerError> {
    if opts.queries.is_empty() {
        return Err(ServerError::Config("no queries to send".into()));
    }
    let seconds = opts.seconds.max(0.1);
    let mut rows = vec![in_process(&state, opts, seconds)];
    let served = Served::start(state.clone())?;
    let next = AtomicUsize::new(0);
    rows.push(
        closed_loop(served.addr, opts, seconds, &next, 0.0)
            .0
            .row("closed-loop", seconds),
    );
    rows.push(open_loop(served.addr, opts, seconds, &next).row("open-loop", seconds));
    let (queries, upserts) = closed_loop(served.addr, opts, seconds, &next, opts.upserts);
    rows.push(queries.row("mixed: context", seconds));
    let acked = upserts.acked.clone();
    let mut row = upserts.row("mixed: upserts", seconds);
    row.upserts_lost = lost(&state, &acked);
    rows.push(row);
    served.stop()?;
    Ok(rows)
}

/// Context requests only, `opts.clients` of them in a closed loop, against
/// `state` served on loopback here: the figure compared across stores.
pub fn context_closed_loop(state: Arc<AppState>, opts: &LoadOptions) -> Result<Row, ServerError> {
    if opts.queries.is_empty() {
        return Err(ServerError::Config("no queries to send".into()));
    }
    let seconds = opts.seconds.max(0.1);
    let served = Served::start(state)?;
    let row = closed_loop(served.addr, opts, seconds, &AtomicUsize::new(0), 0.0)
        .0
        .row("closed-loop", seconds);
    served.stop()?;
    Ok(row)
}

/// The server on loopback in this process, for the scenarios' clients.
struct Served {
    runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<Result<(), ServerError>>,
}

impl Served {
    fn start(state: Arc<AppState>) -> Result<Served, ServerError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = runtime.spawn(crate::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Ok(Served {
            runtime,
            addr,
            stop,
            serving,
        })
    }

    fn stop(self) -> Result<(), ServerError> {
        let _ = self.stop.send(());
        self.runtime
            .block_on(self.serving)
            .map_err(|e| ServerError::Io(std::io::Error::other(e)))?
    }
}

/// The same requests with no HTTP: the handler's own work, on one thread
/// per worker.
fn in_process(state: &Arc<AppState>, opts: &LoadOptions, seconds: f64) -> Row {
    let tally = Mutex::new(Tally::default());
    let next = AtomicUsize::new(0);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    std::thread::scope(|s| {
        for _ in 0..state.config.limits.workers {
            s.spawn(|| {
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let query = &opts.queries[i % opts.queries.len()];
                    let started = Instant::now();
                    let status = match crate::routes::context::answer_json(
                        state,
                        &context_body(query, opts.budget),
                    ) {
                        Ok(_) => 200,
                        Err(e) => e.status.as_u16(),
                    };
                    let ms = started.elapsed().as_secs_f64() * 1e3;
                    tally
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .record(ms, status);
                }
            });
        }
    });
    tally
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .row("in-process", seconds)
}

/// The closed loop; with `upserts` > 0 that share of requests are
/// upserts, tallied apart: (context requests, upserts).
fn closed_loop(
    addr: SocketAddr,
    opts: &LoadOptions,
    seconds: f64,
    next: &AtomicUsize,
    upserts: f64,
) -> (Tally, Tally) {
    let tally = Mutex::new(Tally::default());
    let writes = Mutex::new(Tally::default());
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let upsert_every = if upserts > 0.0 {
        (1.0 / upserts).round().max(1.0) as usize
    } else {
        0
    };
    std::thread::scope(|s| {
        for _ in 0..opts.clients.max(1) {
            s.spawn(|| {
                let Ok(mut conn) = Conn::open(addr) else {
                    return;
                };
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let started = Instant::now();
                    let is_upsert = upsert_every > 0 && i.is_multiple_of(upsert_every);
                    let (status, acked) = if is_upsert {
                        upsert(&mut conn, i, &opts.queries[i % opts.queries.len()])
                    } else {
                        (send_context(&mut conn, opts, i), None)
                    };
                    let ms = started.elapsed().as_secs_f64() * 1e3;
                    let into = if is_upsert { &writes } else { &tally };
                    let mut t = into.lock().unwrap_or_else(|p| p.into_inner());
                    t.record(ms, status);
                    t.acked.extend(acked);
                    if status == 599 {
                        match Conn::open(addr) {
                            Ok(c) => conn = c,
                            Err(_) => return,
                        }
                    }
                }
            });
        }
    });
    (
        tally.into_inner().unwrap_or_else(|p| p.into_inner()),
        writes.into_inner().unwrap_or_else(|p| p.into_inner()),
    )
}

/// Sends the context request for query `i`; its status, 599 when the
/// connection failed.
fn send_context(conn: &mut Conn, opts: &LoadOptions, i: usize) -> u16 {
    let body = context_body(&opts.queries[i % opts.queries.len()], opts.budget);
    conn.request(
        "POST",
        "/v1/context",
        &[("content-type", "application/json")],
        &body,
    )
    .map_or(599, |r| r.status)
}

/// Upserts document `load/doc-<i>.md`; its id and content hash when acknowledged.
fn upsert(conn: &mut Conn, i: usize, text: &str) -> (u16, Option<(String, String)>) {
    let id = format!("load/doc-{i:07}.md");
    let doc =
        format!("# Load document {i}\n\n{text}\n\nWritten by request {i} of the mixed load.\n");
    let body = serde_json::to_vec(&serde_json::json!({"content": doc})).unwrap_or_default();
    match conn.request(
        "PUT",
        &format!("/v1/documents/{id}"),
        &[("content-type", "application/json")],
        &body,
    ) {
        Ok(r) if r.status == 200 => (
            200,
            Some((id, blake3::hash(doc.as_bytes()).to_hex().to_string())),
        ),
        Ok(r) => (r.status, None),
        Err(_) => (599, None),
    }
}

fn open_loop(addr: SocketAddr, opts: &LoadOptions, seconds: f64, next: &AtomicUsize) -> Tally {
    let tally = Mutex::new(Tally::default());
    let total = (seconds * opts.rate).round() as usize;
    let issued = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..opts.clients.max(1) {
            s.spawn(|| {
                let Ok(mut conn) = Conn::open(addr) else {
                    return;
                };
                loop {
                    let n = issued.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        return;
                    }
                    let due = start + Duration::from_secs_f64(n as f64 / opts.rate);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let status = send_context(&mut conn, opts, i);
                    let ms = Instant::now().saturating_duration_since(due).as_secs_f64() * 1e3;
                    tally
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .record(ms, status);
                    if status == 599 {
                        match Conn::open(addr) {
                            Ok(c) => conn = c,
                            Err(_) => return,
                        }
                    }
                }
            });
        }
    });
    tally.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Acknowledged upserts the index does not hold with their content.
fn lost(state: &AppState, acked: &[(String, String)]) -> usize {
    let Some(index) = state.current() else {
        return acked.len();
    };
    let files = index.store().files();
    acked
        .iter()
        .filter(|(id, hash)| {
            files
                .binary_search_by(|f| f.path.as_str().cmp(id))
                .map_or(true, |i| &files[i].content_hash != hash)
        })
        .count()
}

/// The rows as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | requests | errors (5xx) | QPS | p50 ms | p99 ms | max ms | upserts acked (lost) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} ({}) | {:.1} | {:.1} | {:.1} | {:.1} | {} |\n",
            r.scenario,
            r.requests,
            r.errors,
            r.server_errors,
            r.qps,
            r.p50_ms,
            r.p99_ms,
            r.max_ms,
            if r.scenario == "mixed: upserts" {
                format!("{} ({})", r.upserts_acked, r.upserts_lost)
            } else {
                "-".into()
            }
        ));
    }
    out
}
