//! Errors: [`ServerError`] for starting the server, [`ApiError`] for a
//! request, always answered as `{"error": {"code", "message"}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Why the server could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The index could not be opened or written.
    #[error(transparent)]
    Index(#[from] bubble_index::IndexError),
    /// Listening or serving failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A failed request: its status, a stable code and a message for people.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable code (`bad_request`, `not_found`, ...).
    pub code: &'static str,
    /// What went wrong and how to fix it.
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400: the request is malformed or out of range.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 401: no key, or an unknown one.
    pub fn unauthorized(message: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: the key lacks the scope.
    pub fn forbidden(message: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 413: the body is over the limit.
    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    /// 503 with `Retry-After`: shed, timed out, or not ready.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// 500: the server's own failure (a damaged index, a failed write).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<bubble_assembly::AssemblyError> for ApiError {
    fn from(e: bubble_assembly::AssemblyError) -> ApiError {
        use bubble_assembly::AssemblyError as E;
        match e {
            E::Retrieval(r) => r.into(),
            other => ApiError::bad_request(other.to_string()),
        }
    }
}

impl From<bubble_retrieval::RetrievalError> for ApiError {
    fn from(e: bubble_retrieval::RetrievalError) -> ApiError {
        use bubble_retrieval::RetrievalError as E;
        match e {
            E::Index(i) => i.into(),
            other => ApiError::bad_request(other.to_string()),
        }
    }
}

impl From<bubble_index::IndexError> for ApiError {
    fn from(e: bubble_index::IndexError) -> ApiError {
        use bubble_index::IndexError as E;
        match e {
            // The database is away: worth a retry, not a bug.
            E::Store(_) => ApiError::unavailable(e.to_string()),
            E::Glob { .. } => ApiError::bad_request(e.to_string()),
            other => ApiError::internal(other.to_string()),
        }
    }
}
