//! The REST API (axum) over search and context assembly, with live
//! document updates into the embedded index.
//!
//! This crate owns HTTP only: typed request bodies, one JSON error shape,
//! API keys, limits, shared state (the index snapshot, the model, caches),
//! the write queue in front of the index's single writer, and metrics.
//! Every behaviour — retrieval, bubbles, traces, commits — lives in the
//! crates below; CPU work runs on the blocking pool, never on the async
//! runtime (`work.rs`).
#![deny(missing_docs)]

mod auth;
pub mod client;
mod config;
mod error;
pub mod load;
mod metrics;
mod openapi;
mod routes;
mod state;
mod work;
mod writes;

pub use auth::{hash_secret, Key, Scope};
pub use config::{Config, Limits};
pub use error::{ApiError, ServerError};
pub use state::{AppState, Backend, Parts};

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// The router over `state`; its OpenAPI document, generated from the
/// same handlers, is kept in `state` for `/openapi.json`.
pub fn router(state: Arc<AppState>) -> Router {
    use routes::*;
    use utoipa::OpenApi;
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    let (router, api) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(context::context))
        .routes(routes!(context::batch))
        .routes(routes!(search::search))
        .routes(routes!(traces::get))
        .routes(routes!(documents::list))
        .routes(routes!(documents::put, documents::delete, documents::get))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .routes(routes!(openapi::spec))
        .split_for_parts();
    let _ = state.openapi.set(openapi::render(&api));
    router
        .fallback(|| async { ApiError::not_found("no such route (see /openapi.json)") })
        .method_not_allowed_fallback(|| async {
            ApiError {
                status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
                code: "method_not_allowed",
                message: "this route does not take that method".into(),
            }
        })
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

/// Gives each request an id (the `x-request-id` header), logs it, and
/// records its status and latency by route.
async fn observe(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = REQUEST_IDS.fetch_add(1, Ordering::Relaxed).to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched".to_string(), |m| m.as_str().to_string());
    let method = req.method().clone();
    req.headers_mut().remove("x-request-id");
    let mut response = next.run(req).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    state.metrics.observe(&route, status, seconds);
    tracing::info!(request_id = %id, %method, route = %route, status, ms = seconds * 1e3, "request");
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

/// Serves `state` on `listener` until `shutdown` resolves; then finishes
/// the requests in flight and commits the queued writes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let app = router(state.clone());
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    let closing = state.clone();
    tokio::task::spawn_blocking(move || closing.writes.close())
        .await
        .map_err(|e| ServerError::Io(std::io::Error::other(e)))?;
    Ok(())
}
