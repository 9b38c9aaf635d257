//! `GET /v1/traces/{id}`: a recent trace (the store keeps the newest).

use crate::auth::Scope;
use crate::error::ApiError;
use crate::state::AppState;
use crate::work::authorize;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde_json::Value;
use std::sync::Arc;

/// A recent trace.
#[utoipa::path(get, path = "/v1/traces/{id}", params(("id" = String, Path, description = "the trace id a context answer gave")), tag = "context", responses((status = 200, description = "the trace", body = Object), (status = 404, description = "not kept", body = crate::openapi::ErrorBody), (status = 401, description = "no or unknown key", body = crate::openapi::ErrorBody), (status = 503, description = "shed, timed out or no index", body = crate::openapi::ErrorBody)))]
pub(crate) async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Scope::Read)?;
    let trace = state.trace(&id).ok_or_else(|| {
        ApiError::not_found(format!(
            "no recent trace {id:?} (the newest {} are kept)",
            state.config.trace_cache
        ))
    })?;
    serde_json::to_value(&*trace)
        .map(Json)
        .map_err(|e| ApiError::internal(e.to_string()))
}
