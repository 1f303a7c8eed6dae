//! The API's errors and their one body: `{"error": {"code", "message", "details"}}`.

use axum::http::StatusCode;
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
    #[error("request body larger than 1 MiB")]
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
        }
    }

    fn details(&self) -> serde_json::Value {
        match self {
            Self::Validation { field, message } => json!({ "field": field, "reason": message }),
            Self::BatchTooLarge { got, limit } => json!({ "got": got, "limit": limit }),
            Self::UnknownChain(id) => json!({ "chain_id": id }),
            Self::MethodNotAllowed { method, .. } => json!({ "method": method }),
            _ => json!({}),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code(), error = %self, "engine.request.failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.to_string(),
                details: self.details(),
            },
        };
        (status, Json(body)).into_response()
    }
}
