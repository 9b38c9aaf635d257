//! `POST /v1/search`: hits with every channel's rank and score.

use crate::auth::Scope;
use crate::error::ApiError;
use crate::routes::Filters;
use crate::state::AppState;
use crate::work::{authorize, compute, parse_json, read_body};
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use bubble_retrieval::{Fusion, Mode, Retriever, SearchRequest};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum FusionName {
    #[default]
    Rrf,
    Weighted,
}

/// A search request.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Search {
    query: String,
    #[serde(default)]
    #[schema(value_type = String, example = "hybrid")]
    mode: Mode,
    #[serde(default = "default_k")]
    k: usize,
    /// Candidates each channel returns before fusion (default max(k, 100)).
    #[serde(default)]
    depth: Option<usize>,
    #[serde(default = "default_ef")]
    ef: usize,
    #[serde(default)]
    fusion: FusionName,
    #[serde(default = "default_rrf_k")]
    rrf_k: f32,
    #[serde(default = "default_dense_weight")]
    dense_weight: f32,
    #[serde(default)]
    filters: Filters,
}

fn default_k() -> usize {
    10
}
fn default_ef() -> usize {
    128
}
fn default_rrf_k() -> f32 {
    60.0
}
fn default_dense_weight() -> f32 {
    0.5
}

/// Hits with every channel's rank and score.
#[utoipa::path(post, path = "/v1/search", request_body = Search, tag = "search", responses((status = 200, description = "hits, best first", body = Object), (status = 400, description = "bad request", body = crate::openapi::ErrorBody), (status = 401, description = "no or unknown key", body = crate::openapi::ErrorBody), (status = 503, description = "shed, timed out or no index", body = crate::openapi::ErrorBody)))]
pub(crate) async fn search(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Scope::Read)?;
    let req: Search = parse_json(&read_body(&state, &headers, body).await?)?;
    let max_k = state.config.limits.max_k;
    if req.k == 0 || req.k > max_k {
        return Err(ApiError::bad_request(format!(
            "k must be 1 to {max_k}, not {}",
            req.k
        )));
    }
    if req.query.len() > state.config.limits.max_query_bytes {
        return Err(ApiError::bad_request(format!(
            "query is {} bytes; at most {} are allowed",
            req.query.len(),
            state.config.limits.max_query_bytes
        )));
    }
    req.filters.check()?;
    let answer = compute(&state, move |s| run(s, &req)).await?;
    Ok(Json((*answer).clone()))
}

fn run(state: &AppState, req: &Search) -> Result<Arc<Value>, ApiError> {
    let snapshot = state.snapshot()?;
    let index = snapshot.as_ref();
    let generation = index.manifest().generation;
    let key = (
        generation,
        serde_json::to_string(&("search", req)).unwrap_or_default(),
    );
    if let Some(hit) = state.cached(&key) {
        return Ok(hit);
    }
    let mut sr = SearchRequest::new(req.query.clone());
    sr.mode = req.mode;
    sr.k = req.k;
    sr.depth = req.depth.unwrap_or(req.k.max(100));
    sr.ef = req.ef;
    sr.fusion = match req.fusion {
        FusionName::Rrf => Fusion::Rrf { k: req.rrf_k },
        FusionName::Weighted => Fusion::Weighted {
            dense_weight: req.dense_weight,
        },
    };
    sr.filter = req.filters.to_span_filter()?;
    let resp = Retriever::new(index, state.embedder.as_deref()).search(&sr)?;
    let mut value = serde_json::to_value(&resp).map_err(|e| ApiError::internal(e.to_string()))?;
    value["generation"] = generation.into();
    let value = Arc::new(value);
    state.remember(key, value.clone());
    Ok(value)
}
