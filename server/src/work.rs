//! How a request gets computed: parsed from a bounded body, checked
//! against its key, admitted (or shed with 503 when the queue is full),
//! then run on the blocking pool, one worker per core, under a timeout, so
//! that retrieval, the model and assembly never run on the async runtime.

use crate::auth::Scope;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// Reads the body, refusing more than the configured limit with 413
/// (at once when `Content-Length` says so, before reading any of it).
pub(crate) async fn read_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Vec<u8>, ApiError> {
    let limit = state.config.limits.max_body_bytes;
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large(format!(
            "the body is over the limit of {limit} bytes"
        )));
    }
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(bytes.to_vec()),
        Err(e) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if too_large {
                Err(ApiError::too_large(format!(
                    "the body is over the limit of {limit} bytes"
                )))
            } else {
                Err(ApiError::bad_request(format!("reading the body: {e}")))
            }
        }
    }
}

/// Parses a JSON body into `T`, with serde's message (line, column, field).
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "the body is empty: send a JSON object",
        ));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ApiError::bad_request(format!("the body is not UTF-8: {e}")))?;
    serde_json::from_str(text).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

/// Checks the request's key for `scope`.
pub(crate) fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    scope: Scope,
) -> Result<(), ApiError> {
    let presented = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    state
        .keys
        .check(presented.map(str::trim), scope)
        .map(|_| ())
}

/// Runs `work` on the blocking pool once admitted and given a worker;
/// 503 when the queue is full or the request times out.
pub(crate) async fn compute<T: Send + 'static>(
    state: &Arc<AppState>,
    work: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let Ok(_admitted) = state.admitted.clone().try_acquire_owned() else {
        state
            .metrics
            .shed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Err(ApiError::unavailable("the server is busy: retry shortly"));
    };
    let timeout = Duration::from_secs_f64(state.config.limits.request_timeout_s);
    let run = async {
        let worker = state
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::unavailable("the server is shutting down"))?;
        let shared = state.clone();
        tokio::task::spawn_blocking(move || {
            let _worker = worker;
            work(&shared)
        })
        .await
        .map_err(|e| ApiError::internal(format!("the request's work failed: {e}")))?
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::unavailable(format!(
            "the request took longer than {:.0} s",
            timeout.as_secs_f64()
        ))),
    }
}
