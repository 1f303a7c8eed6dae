//! The API's errors and their one body: `{"error": {"code", "message", "details"}}`.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::api::types::{ErrorBody, ErrorDetail};
use crate::chain::ChainError;
use crate::math::MathError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    #[error("request body larger than ENGINE_MAX_BODY_BYTES")]
    PayloadTooLarge,
    #[error("batch of {got} cycles is above the limit of {limit}")]
    BatchTooLarge { got: usize, limit: usize },
    #[error("{0}")]
    Math(#[from] MathError),
    #[error("no RPC endpoint configured for chain {0}")]
    UnknownChain(u64),
    #[error("{0}")]
    Chain(#[from] ChainError),
    #[error("no route for {0}")]
    NotFound(String),
    #[error("method {method} not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error("missing or wrong X-API-Key header")]
    Unauthorized,
    #[error("more than {0} requests in flight; retry shortly")]
    Overloaded(usize),
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation { field: field.into(), message: message.into() }
    }

    /// The stable wire code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "malformed_json",
            Self::Validation { .. } => "validation_failed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::BatchTooLarge { .. } => "batch_too_large",
            Self::Math(e) => e.code(),
            Self::UnknownChain(_) => "unknown_chain",
            Self::Chain(e) => e.code(),
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Unauthorized => "unauthorized",
            Self::Overloaded(_) => "overloaded",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Self::Validation { .. } | Self::BatchTooLarge { .. } | Self::UnknownChain(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Math(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Chain(e) => match e {
                ChainError::Unreachable(_) => StatusCode::BAD_GATEWAY,
                ChainError::BadResponse(_) => StatusCode::BAD_GATEWAY,
                ChainError::NotAPool(_) => StatusCode::UNPROCESSABLE_ENTITY,
            },
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn details(&self) -> serde_json::Value {
        match self {
            Self::Validation { field, message } => json!({ "field": field, "reason": message }),
            Self::BatchTooLarge { got, limit } => json!({ "got": got, "limit": limit }),
            Self::UnknownChain(id) => json!({ "chain_id": id }),
            Self::MethodNotAllowed { method, .. } => json!({ "method": method }),
            Self::Overloaded(limit) => json!({ "max_in_flight": limit }),
            _ => json!({}),
        }
    }
}

/// A server failure on its way out: [`server_failures`] logs its cause once, with the request
/// id, and adds that id to the body's `details`.
#[derive(Debug, Clone)]
struct ServerFailure {
    body: ErrorBody,
    cause: String,
}

impl ApiError {
    /// What the client reads: the error itself for its own mistakes, a generic line for a 5xx
    /// (whose cause goes to the log).
    fn public_message(&self) -> String {
        match self {
            Self::Chain(ChainError::Unreachable(_)) => "the chain did not answer".into(),
            Self::Chain(ChainError::BadResponse(_)) => "the chain gave an unexpected answer".into(),
            _ => self.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.public_message(),
                details: self.details(),
            },
        };
        if let Self::Overloaded(_) = self {
            // back-pressure, not a failure: no error log, and a hint when to come back
            return (status, [(header::RETRY_AFTER, "1")], Json(body)).into_response();
        }
        let mut response = (status, Json(body.clone())).into_response();
        if status.is_server_error() {
            response.extensions_mut().insert(ServerFailure { body, cause: self.to_string() });
        }
        response
    }
}

/// Middleware, inside the request-id and trace layers: a 5xx [`ApiError`] is logged here, once,
/// with its cause and the request id, and its body gets `details.request_id`.
pub async fn server_failures(req: Request, next: Next) -> Response {
    let request_id =
        req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
    let mut response = next.run(req).await;
    let Some(ServerFailure { mut body, cause }) = response.extensions_mut().remove() else {
        return response;
    };
    tracing::error!(
        code = %body.error.code,
        status = response.status().as_u16(),
        request_id = %request_id,
        error = %cause,
        "engine.request.failed"
    );
    if let Some(details) = body.error.details.as_object_mut() {
        details.insert("request_id".into(), request_id.into());
    }
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    Response::from_parts(parts, Body::from(bytes))
}
