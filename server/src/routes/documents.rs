//! `PUT`, `DELETE`, `GET /v1/documents/{id}` and `GET /v1/documents`:
//! live updates into the index the CLI builds. A document's id is the name
//! the index records it under (`docs/guide.md`); its extension says how it
//! is parsed. Ids only name entries of the index, never a server path.

use crate::auth::Scope;
use crate::error::ApiError;
use crate::state::AppState;
use crate::work::{authorize, parse_json, read_body};
use crate::writes::Change;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::Json;
use bubble_index::bubble_ingest::detect_format;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// Most ids one listing returns.
const MAX_PAGE: usize = 1000;

/// A JSON upsert body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Upsert {
    content: String,
    /// `markdown`, `html`, `text`, `csv`, `tsv` or `jsonl`: must agree
    /// with the id's extension when given.
    #[serde(default)]
    format: Option<String>,
}

/// An id the index may record: relative, `/`-separated, canonical.
fn check_id(id: &str) -> Result<(), ApiError> {
    let bad = id.is_empty()
        || id.len() > 1024
        || id.starts_with('/')
        || id.contains(['\0', '\\'])
        || id.split('/').any(|p| p.is_empty() || p == "." || p == "..");
    if bad {
        return Err(ApiError::bad_request(format!(
            "bad document id {id:?}: use a relative name like docs/guide.md (no empty, . or .. parts)"
        )));
    }
    if detect_format(std::path::Path::new(id)).is_none() {
        return Err(ApiError::bad_request(format!(
            "document id {id:?} has no supported extension (.md, .html, .txt, .csv, .tsv, .jsonl, or one of them .gz)"
        )));
    }
    Ok(())
}

/// Upserts a document (JSON `{"content", "format"}`, or the raw bytes); a 2xx means committed.
#[utoipa::path(put, path = "/v1/documents/{*id}", params(("id" = String, Path, description = "the name the index records the document under, e.g. docs/guide.md")), request_body = Upsert, tag = "documents", responses((status = 200, description = "committed: the generation holding it", body = Object), (status = 400, description = "bad request", body = crate::openapi::ErrorBody), (status = 401, description = "no or unknown key", body = crate::openapi::ErrorBody), (status = 503, description = "shed, timed out or no index", body = crate::openapi::ErrorBody)))]
pub(crate) async fn put(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Scope::Write)?;
    check_id(&id)?;
    let bytes = read_body(&state, &headers, body).await?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let bytes = if is_json {
        let upsert: Upsert = parse_json(&bytes)?;
        if let Some(format) = &upsert.format {
            let found = detect_format(std::path::Path::new(&id)).map(|(f, _)| f.name());
            if found != Some(format.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "format {format:?} does not match the id's extension ({})",
                    found.unwrap_or("none")
                )));
            }
        }
        upsert.content.into_bytes()
    } else {
        bytes
    };
    let written = state.writes.submit(Change::Upsert { id, bytes }).await?;
    written_json(written)
}

/// Removes a document; a 2xx means committed.
#[utoipa::path(delete, path = "/v1/documents/{*id}", params(("id" = String, Path, description = "the name the index records the document under, e.g. docs/guide.md")), tag = "documents", responses((status = 200, description = "committed", body = Object), (status = 400, description = "bad request", body = crate::openapi::ErrorBody), (status = 401, description = "no or unknown key", body = crate::openapi::ErrorBody), (status = 503, description = "shed, timed out or no index", body = crate::openapi::ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Scope::Write)?;
    check_id(&id)?;
    let written = state.writes.submit(Change::Delete { id }).await?;
    written_json(written)
}

/// A document's content hash and records.
#[utoipa::path(get, path = "/v1/documents/{*id}", params(("id" = String, Path, description = "the name the index records the document under, e.g. docs/guide.md")), tag = "documents", responses((status = 200, description = "the document", body = Object), (status = 400, description = "bad request", body = crate::openapi::ErrorBody), (status = 401, description = "no or unknown key", body = crate::openapi::ErrorBody), (status = 503, description = "shed, timed out or no index", body = crate::openapi::ErrorBody)))]
pub(crate) async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Scope::Read)?;
    let missing = ApiError::not_found(format!("no document {id:?}"));
    let found = state
        .read(move |corpus| {
            let Some((hash, docs)) = corpus.file(&id).map_err(ApiError::from)? else {
                return Ok(None);
            };
            let docs: Vec<Value> = docs
                .iter()
                .map(|d| {
                    json!({"id": d.id, "title": d.title, "spans": d.spans.len(), "metadata": d.metadata})
                })
                .collect();
            Ok(Some(json!({
                "id": id,
                "content_hash": hash,
                "generation": corpus.manifest().generation,
                "documents": docs,
            })))
        })
        .await;
    // No document, or no index yet to hold one.
    found?.flatten().map(Json).ok_or(missing)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct Page {
    #[serde(default)]
    offset: usize,
    #[serde(default = "default_limit")]
    limit: usize,
}

fn default_limit() -> usize {
    100
}

/// Document ids and content hashes, in id order.
#[utoipa::path(get, path = "/v1/documents", params(Page), tag = "documents", responses((status = 200, description = "a page of ids", body = Object), (status = 400, description = "bad request", body = crate::openapi::ErrorBody), (status = 401, description = "no or unknown key", body = crate::openapi::ErrorBody), (status = 503, description = "shed, timed out or no index", body = crate::openapi::ErrorBody)))]
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Scope::Read)?;
    let Query(page) = page.map_err(|e| ApiError::bad_request(e.body_text()))?;
    if page.limit == 0 || page.limit > MAX_PAGE {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_PAGE}"
        )));
    }
    let offset = page.offset;
    let listed = state
        .read(move |corpus| {
            let (total, files) = corpus
                .files_page(page.offset, page.limit)
                .map_err(ApiError::from)?;
            let shown: Vec<Value> = files
                .iter()
                .map(|(id, hash)| json!({"id": id, "content_hash": hash}))
                .collect();
            Ok(json!({
                "total": total,
                "offset": page.offset,
                "generation": corpus.manifest().generation,
                "documents": shown,
            }))
        })
        .await;
    // No index yet: nothing to list.
    Ok(Json(listed?.unwrap_or_else(
        || json!({"total": 0, "offset": offset, "documents": []}),
    )))
}

/// A committed change's answer.
fn written_json(written: crate::writes::Written) -> Result<Json<Value>, ApiError> {
    serde_json::to_value(written)
        .map(Json)
        .map_err(|e| ApiError::internal(e.to_string()))
}
