//! The handlers, one file per resource, and what requests share.

pub(crate) mod context;
pub(crate) mod documents;
pub(crate) mod health;
pub(crate) mod search;
pub(crate) mod traces;

use crate::error::ApiError;
use bubble_index::bubble_ingest::SpanKind;
use bubble_retrieval::SpanFilter;
use serde::{Deserialize, Serialize};

/// Most path globs and kinds one request may filter by.
const MAX_FILTERS: usize = 64;

/// A request's restriction of what retrieval may return.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Filters {
    /// Globs on document ids (any may match).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Span kinds (`paragraph`, `row`, ...).
    #[serde(default)]
    pub kinds: Vec<String>,
}

impl Filters {
    pub(crate) fn check(&self) -> Result<(), ApiError> {
        if self.paths.len() > MAX_FILTERS || self.kinds.len() > MAX_FILTERS {
            return Err(ApiError::bad_request(format!(
                "filters take at most {MAX_FILTERS} paths and {MAX_FILTERS} kinds"
            )));
        }
        self.to_span_filter().map(|_| ())
    }

    pub(crate) fn to_span_filter(&self) -> Result<SpanFilter, ApiError> {
        let kinds = self
            .kinds
            .iter()
            .map(|k| {
                SpanKind::parse(k).ok_or_else(|| {
                    let all: Vec<&str> = SpanKind::ALL.iter().map(|k| k.as_str()).collect();
                    ApiError::bad_request(format!(
                        "unknown span kind {k:?}: use one of {}",
                        all.join(", ")
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SpanFilter {
            paths: self.paths.clone(),
            kinds,
        })
    }
}
