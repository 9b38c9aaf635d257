//! `POST /v1/context` and `POST /v1/context/batch`: a bubble for a query.

use crate::auth::Scope;
use crate::error::ApiError;
use crate::routes::Filters;
use crate::state::AppState;
use crate::work::{authorize, compute, parse_json, read_body};
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use bubble_assembly::{Pipeline, PipelineSpec};
use bubble_retrieval::Retriever;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// A context request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContextRequest {
    query: String,
    budget: usize,
    #[serde(default)]
    tokenizer: Option<String>,
    /// A shipped pipeline's name, or an inline spec.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pipeline: Option<Value>,
    #[serde(default)]
    filters: Filters,
    /// Include the trace in the answer.
    #[serde(default)]
    trace: bool,
    /// Fill the budget (no relevance floor).
    #[serde(default)]
    fill: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchRequest {
    requests: Vec<ContextRequest>,
}

/// A context bubble for a query.
#[utoipa::path(post, path = "/v1/context", request_body = ContextRequest, tag = "context", responses((status = 200, description = "the bubble, its spans and trace id", body = Object), (status = 400, description = "bad request", body = crate::openapi::ErrorBody), (status = 401, description = "no or unknown key", body = crate::openapi::ErrorBody), (status = 503, description = "shed, timed out or no index", body = crate::openapi::ErrorBody)))]
pub(crate) async fn context(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Scope::Read)?;
    let req: ContextRequest = parse_json(&read_body(&state, &headers, body).await?)?;
    check(&state, &req)?;
    let answer = compute(&state, move |s| answer(s, &req)).await?;
    Ok(Json((*answer).clone()))
}

/// Several context requests in one call.
#[utoipa::path(post, path = "/v1/context/batch", request_body = BatchRequest, tag = "context", responses((status = 200, description = "one answer or error per request", body = Object), (status = 400, description = "bad request", body = crate::openapi::ErrorBody), (status = 401, description = "no or unknown key", body = crate::openapi::ErrorBody), (status = 503, description = "shed, timed out or no index", body = crate::openapi::ErrorBody)))]
pub(crate) async fn batch(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Scope::Read)?;
    let req: BatchRequest = parse_json(&read_body(&state, &headers, body).await?)?;
    let max = state.config.limits.max_batch;
    if req.requests.is_empty() || req.requests.len() > max {
        return Err(ApiError::bad_request(format!(
            "a batch holds 1 to {max} requests, not {}",
            req.requests.len()
        )));
    }
    for (i, r) in req.requests.iter().enumerate() {
        check(&state, r)
            .map_err(|e| ApiError::bad_request(format!("requests[{i}]: {}", e.message)))?;
    }
    let results = compute(&state, move |s| {
        Ok(req
            .requests
            .iter()
            .map(|r| match answer(s, r) {
                Ok(v) => (*v).clone(),
                Err(e) => serde_json::json!({"error": {"code": e.code, "message": e.message}}),
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(serde_json::json!({ "results": results })))
}

/// A context request's answer computed here, with no HTTP: what the load
/// benchmark compares the server against.
pub(crate) fn answer_json(state: &AppState, body: &[u8]) -> Result<Arc<Value>, ApiError> {
    let req: ContextRequest = parse_json(body)?;
    check(state, &req)?;
    answer(state, &req)
}

/// Refuses out-of-range requests before any work.
fn check(state: &AppState, req: &ContextRequest) -> Result<(), ApiError> {
    let l = &state.config.limits;
    if req.query.trim().is_empty() {
        return Err(ApiError::bad_request("query is empty"));
    }
    if req.query.len() > l.max_query_bytes {
        return Err(ApiError::bad_request(format!(
            "query is {} bytes; at most {} are allowed",
            req.query.len(),
            l.max_query_bytes
        )));
    }
    if req.budget == 0 || req.budget > l.max_budget {
        return Err(ApiError::bad_request(format!(
            "budget must be 1 to {} tokens, not {}",
            l.max_budget, req.budget
        )));
    }
    req.filters.check()?;
    Ok(())
}

/// The pipeline a request names or carries.
fn pipeline(state: &AppState, spec: Option<&Value>) -> Result<Arc<Pipeline>, ApiError> {
    match spec {
        None => Ok(state.pipelines["default"].clone()),
        Some(Value::String(name)) => state.pipelines.get(name.as_str()).cloned().ok_or_else(|| {
            let mut names: Vec<&str> = state.pipelines.keys().copied().collect();
            names.sort_unstable();
            ApiError::bad_request(format!(
                "unknown pipeline {name:?}: use one of {} or an inline spec",
                names.join(", ")
            ))
        }),
        Some(inline @ Value::Object(_)) => {
            let steps = count_steps(inline);
            let max = state.config.limits.max_pipeline_steps;
            if steps > max {
                return Err(ApiError::bad_request(format!(
                    "the inline pipeline has {steps} steps; at most {max} are allowed"
                )));
            }
            let spec: PipelineSpec = serde_json::from_value(inline.clone())
                .map_err(|e| ApiError::bad_request(format!("inline pipeline: {e}")))?;
            Ok(Arc::new(Pipeline::from_spec(spec)?))
        }
        Some(_) => Err(ApiError::bad_request(
            "pipeline must be a shipped pipeline's name or an inline spec (an object)",
        )),
    }
}

/// Objects in a spec: a bound on steps however they nest.
fn count_steps(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(count_steps).sum::<usize>(),
        Value::Array(a) => a.iter().map(count_steps).sum(),
        _ => 0,
    }
}

/// The answer to one request (cached by generation and request).
fn answer(state: &AppState, req: &ContextRequest) -> Result<Arc<Value>, ApiError> {
    let snapshot = state.snapshot()?;
    let index = snapshot.as_ref();
    let generation = index.manifest().generation;
    let key = (
        generation,
        serde_json::to_string(&(
            "context",
            &req.query,
            req.budget,
            &req.tokenizer,
            &req.pipeline,
            &req.filters,
            req.trace,
            req.fill,
        ))
        .unwrap_or_default(),
    );
    if let Some(hit) = state.cached(&key) {
        return Ok(hit);
    }
    let pipeline = pipeline(state, req.pipeline.as_ref())?;
    let counter = state.counter(req.tokenizer.as_deref(), index)?;
    let ctx = bubble_assembly::Context {
        retriever: Retriever::new(index, state.embedder.as_deref()),
        counter: &counter,
        ranker: state.ranker.as_ref(),
    };
    let (out, trace) = bubble_assembly::assemble_filtered(
        &ctx,
        &pipeline,
        &req.query,
        req.budget,
        req.fill,
        req.filters.to_span_filter()?,
    )?;
    let mut value = serde_json::to_value(&out).map_err(|e| ApiError::internal(e.to_string()))?;
    value["generation"] = generation.into();
    if req.trace {
        value["trace"] =
            serde_json::to_value(&trace).map_err(|e| ApiError::internal(e.to_string()))?;
    }
    state.keep_trace(trace);
    let value = Arc::new(value);
    state.remember(key, value.clone());
    Ok(value)
}
