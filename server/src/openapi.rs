//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the
//! handlers' own annotations by the same router that serves them
//! (utoipa-axum), so a route cannot be served without being described.

use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use std::sync::Arc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Every error's body.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ErrorDetail {
    /// Stable, machine-readable: `bad_request`, `unauthorized`, `forbidden`,
    /// `not_found`, `payload_too_large`, `unavailable`, `internal`, ...
    code: String,
    /// What went wrong and how to fix it.
    message: String,
}

struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Bubble",
        description = "The best cited context for an LLM from your own documents, within a token budget."
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerKeys),
    security(("api_key" = []))
)]
pub(crate) struct ApiDoc;

/// The document, as served (axum's `{*id}` wildcards written `{id}`).
pub(crate) fn render(api: &utoipa::openapi::OpenApi) -> String {
    let mut api = api.clone();
    let paths = std::mem::take(&mut api.paths.paths);
    api.paths.paths = paths
        .into_iter()
        .map(|(path, item)| (path.replace("{*", "{"), item))
        .collect();
    api.to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", security(()), responses((status = 200, description = "the OpenAPI document", body = Object)))]
pub(crate) async fn spec(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi.get().cloned().unwrap_or_default(),
    )
}
