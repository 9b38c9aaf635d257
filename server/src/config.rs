//! Server configuration: `bubble.toml` (every field optional) and the
//! `BUBBLE_API_KEYS` environment variable.

use crate::auth::{Key, Scope};
use crate::error::ServerError;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;

/// Everything `bubble serve` can be told.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Request limits.
    pub limits: Limits,
    /// API keys, stored as blake3 hashes (`bubble key` makes one).
    pub keys: Vec<Key>,
    /// Recent traces kept for `GET /v1/traces/{id}`.
    pub trace_cache: usize,
    /// Answers kept, keyed by index generation and request (0: off).
    pub result_cache: usize,
    /// Query vectors kept, by query text (0: off).
    pub query_cache: usize,
}

/// Caps on what one request may ask and on how many run at once.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest token budget of a context request.
    pub max_budget: usize,
    /// Most hits a search may ask for.
    pub max_k: usize,
    /// Longest query, in bytes.
    pub max_query_bytes: usize,
    /// Most queries in one batch.
    pub max_batch: usize,
    /// Most steps an inline pipeline may have, nested ones included.
    pub max_pipeline_steps: usize,
    /// Seconds a request may take before it fails with 503.
    pub request_timeout_s: f64,
    /// Requests computed at once (each holds a core).
    pub workers: usize,
    /// Requests waiting for a worker before more are shed with 503.
    pub queue: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 7878)),
            limits: Limits::default(),
            keys: Vec::new(),
            trace_cache: 1024,
            result_cache: 4096,
            query_cache: 4096,
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Limits {
            max_body_bytes: 16 * 1024 * 1024,
            max_budget: 32_768,
            max_k: 1000,
            max_query_bytes: bubble_retrieval::limits::MAX_QUERY_BYTES,
            max_batch: 64,
            max_pipeline_steps: 64,
            request_timeout_s: 30.0,
            workers: cores,
            queue: 256,
        }
    }
}

impl Config {
    /// Reads `path` (TOML), or the defaults without one; then adds the keys
    /// of `BUBBLE_API_KEYS` (`scope:key` pairs, comma-separated, where
    /// scope is `read` or `write`), hashed as they are read.
    pub fn load(path: Option<&Path>) -> Result<Config, ServerError> {
        let mut config = match path {
            None => Config::default(),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| ServerError::Config(format!("reading {}: {e}", p.display())))?;
                toml::from_str(&text)
                    .map_err(|e| ServerError::Config(format!("{}: {e}", p.display())))?
            }
        };
        if let Ok(list) = std::env::var("BUBBLE_API_KEYS") {
            for (i, item) in list.split(',').filter(|s| !s.trim().is_empty()).enumerate() {
                let (scope, secret) = item.trim().split_once(':').ok_or_else(|| {
                    ServerError::Config(format!(
                        "BUBBLE_API_KEYS entry {}: expected scope:key (scope read or write)",
                        i + 1
                    ))
                })?;
                let scope = Scope::parse(scope).ok_or_else(|| {
                    ServerError::Config(format!(
                        "BUBBLE_API_KEYS entry {}: unknown scope {scope:?} (read or write)",
                        i + 1
                    ))
                })?;
                config
                    .keys
                    .push(Key::from_secret(&format!("env-{}", i + 1), secret, scope));
            }
        }
        config.validate()?;
        Ok(config)
    }

    /// Refuses settings the server could not honour.
    pub fn validate(&self) -> Result<(), ServerError> {
        let l = &self.limits;
        let bad = |what: &str| Err(ServerError::Config(what.to_string()));
        if l.workers == 0 || l.max_body_bytes == 0 || l.max_budget == 0 || l.max_k == 0 {
            return bad("limits: workers, max_body_bytes, max_budget and max_k must be at least 1");
        }
        if l.max_batch == 0 || l.max_pipeline_steps == 0 || l.max_query_bytes == 0 {
            return bad(
                "limits: max_batch, max_pipeline_steps and max_query_bytes must be at least 1",
            );
        }
        if !(l.request_timeout_s.is_finite() && l.request_timeout_s > 0.0) {
            return bad("limits: request_timeout_s must be a positive number of seconds");
        }
        if self.keys.is_empty() && !self.addr.ip().is_loopback() {
            return Err(ServerError::Config(format!(
                "refusing to serve on {} without API keys: add keys (bubble key) or bind a loopback address",
                self.addr
            )));
        }
        for k in &self.keys {
            k.validate()?;
        }
        Ok(())
    }
}
