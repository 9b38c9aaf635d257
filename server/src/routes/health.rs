//! `GET /healthz` (the process answers), `GET /readyz` (an index to answer
//! from) and `GET /metrics` (Prometheus).

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "alive", body = Object)))]
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// An index to answer from: its generation, counts and notices.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, description = "ready", body = Object), (status = 503, description = "no index yet", body = crate::openapi::ErrorBody)))]
pub(crate) async fn readyz(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let m = state
        .read(|c| Ok(c.manifest().clone()))
        .await?
        .ok_or_else(|| ApiError::unavailable("the index is empty: upsert a document first"))?;
    Ok(Json(json!({
        "status": "ready",
        "generation": m.generation,
        "spans": m.counts.spans,
        "documents": m.counts.documents,
        "embedding": m.embedding.as_ref().map(|e| e.model.clone()),
        "notices": state.notices,
    })))
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "metrics", content_type = "text/plain", body = String)))]
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let manifest = state
        .read(|c| Ok(c.manifest().clone()))
        .await
        .ok()
        .flatten();
    let (generation, spans, files) = manifest.map_or((0.0, 0.0, 0.0), |m| {
        (
            m.generation as f64,
            m.counts.spans as f64,
            m.counts.files as f64,
        )
    });
    let limits = &state.config.limits;
    let computing = limits.workers - state.workers.available_permits().min(limits.workers);
    let admitted = limits.workers + limits.queue - state.admitted.available_permits();
    let gauges = [
        (
            "bubble_index_generation",
            "The generation readers answer from.",
            generation,
        ),
        ("bubble_index_spans", "Spans in that generation.", spans),
        ("bubble_index_files", "Files in that generation.", files),
        (
            "bubble_requests_computing",
            "Requests holding a worker.",
            computing as f64,
        ),
        (
            "bubble_requests_waiting",
            "Requests admitted and waiting for a worker (the model's queue among them).",
            admitted.saturating_sub(computing) as f64,
        ),
        (
            "bubble_writes_queued",
            "Document changes queued or being committed.",
            state.writes.queued.load(Ordering::Relaxed) as f64,
        ),
    ];
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(&gauges),
    )
}
