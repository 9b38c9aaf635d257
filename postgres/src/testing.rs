//! A real PostgreSQL server for tests (feature `testing`): the repository's
//! `scripts/postgres` starts one (PostgreSQL 18 with pgvector, from PyPI)
//! on a loopback port, and each test takes a database of its own. Without
//! a server the tests that need one are skipped with a note;
//! `BUBBLE_REQUIRE_POSTGRES=1` (the test command sets it) makes that a
//! failure instead.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The repository's root (this crate's parent folder).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether a missing server fails the test instead of skipping it.
pub fn required() -> bool {
    std::env::var("BUBBLE_REQUIRE_POSTGRES").as_deref() == Ok("1")
}

/// Runs `scripts/postgres ARGS`; the last line it printed.
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

/// The URL of server `name` (started, and created on first use), or
/// `None` with a note when there is none to start.
pub fn server(name: &str) -> Option<String> {
    // One start at a time: the first creates the server.
    static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = STARTING.lock().unwrap_or_else(|p| p.into_inner());
    match script(&["start", name]) {
        Ok(url) => Some(url),
        Err(e) => {
            assert!(!required(), "PostgreSQL required: {e}");
            eprintln!("skipping PostgreSQL test: {e}");
            None
        }
    }
}

/// `url` with its database replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
    format!("{base}/{db}")
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty database on server `name`; its URL.
pub fn database_on(name: &str) -> Option<String> {
    let url = server(name)?;
    let db = format!(
        "t{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    psql(
        &with_database(&url, "postgres"),
        &[
            &format!("DROP DATABASE IF EXISTS {db}"),
            &format!("CREATE DATABASE {db}"),
        ],
    );
    Some(with_database(&url, &db))
}

/// Runs each of `commands` in `psql` on database `url`; panics when one fails.
pub fn psql(url: &str, commands: &[&str]) {
    let bin = script(&["bin"]).expect("the PostgreSQL programs");
    let mut args = vec![url, "-q", "-v", "ON_ERROR_STOP=1"];
    for c in commands {
        args.extend(["-c", c]);
    }
    let status = Command::new(Path::new(&bin).join("psql"))
        .args(&args)
        .env("PGOPTIONS", "-c client_min_messages=warning")
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql {commands:?}");
}

/// A fresh database on the shared test server (`test`).
pub fn database() -> Option<String> {
    database_on("test")
}
