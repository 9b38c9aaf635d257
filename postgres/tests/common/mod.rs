//! A real PostgreSQL server for the backend's tests: `scripts/postgres`
//! starts one (PostgreSQL 18 with pgvector, from PyPI) on a loopback port,
//! and each test gets a database of its own. Without it the tests are
//! skipped with a note; `BUBBLE_REQUIRE_POSTGRES=1` (the test command
//! sets it) makes that a failure instead.

#![allow(dead_code)] // not every test binary uses every helper

use bubble_index::{find_models_dir, Embedder};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn required() -> bool {
    std::env::var("BUBBLE_REQUIRE_POSTGRES").as_deref() == Ok("1")
}

/// Runs `scripts/postgres ARGS`; its last line of output.
pub fn script(args: &[&str]) -> Result<String, String> {
    let out = Command::new(repo().join("scripts/postgres"))
        .args(args)
        .output()
        .map_err(|e| format!("scripts/postgres: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "scripts/postgres {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string())
}

/// The URL of the test server (started if needed), or `None` with a note
/// when there is none to start.
pub fn server() -> Option<String> {
    // One start at a time: the first creates the server.
    static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = STARTING.lock().unwrap_or_else(|p| p.into_inner());
    match script(&["start", "test"]) {
        Ok(url) => Some(url),
        Err(e) => {
            assert!(!required(), "PostgreSQL required: {e}");
            eprintln!("skipping PostgreSQL test: {e}");
            None
        }
    }
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty database on the test server; its URL.
pub fn database() -> Option<String> {
    let url = server()?;
    let name = format!(
        "t{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let bin = script(&["bin"]).expect("postgres programs");
    let base = url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
    let status = Command::new(Path::new(&bin).join("psql"))
        .args([
            &format!("{base}/postgres"),
            "-q",
            "-c",
            &format!("DROP DATABASE IF EXISTS {name}"),
            "-c",
            &format!("CREATE DATABASE {name}"),
        ])
        .env("PGOPTIONS", "-c client_min_messages=warning")
        .status()
        .expect("psql runs");
    assert!(status.success(), "creating database {name}");
    Some(format!("{base}/{name}"))
}

/// The embedding model, or `None` (with a note) when it is not set up;
/// `BUBBLE_REQUIRE_MODELS=1` makes a missing model a failure.
pub fn embedder() -> Option<Embedder> {
    let dir = find_models_dir(None).or_else(|| {
        let models = repo().join("models");
        models.is_dir().then_some(models)
    });
    match dir.map(|d| Embedder::load(&d, 2)) {
        Some(Ok(e)) => Some(e),
        other => {
            let why = match other {
                Some(Err(e)) => e.to_string(),
                _ => "no models folder".into(),
            };
            assert!(
                std::env::var("BUBBLE_REQUIRE_MODELS").as_deref() != Ok("1"),
                "model required: {why}"
            );
            eprintln!("skipping model test: {why}");
            None
        }
    }
}
