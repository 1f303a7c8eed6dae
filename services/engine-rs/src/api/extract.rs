//! Our own JSON extractor: malformed bodies and bad fields get the error body.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Like `axum::Json`, but rejections are [`ApiError`]s: 413 for a body over the limit, 400 for
/// malformed JSON, 422 with the field's path for a value that does not fit.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

/// Parses a body, naming the field that does not fit.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => ApiError::validation(path, inner.to_string()),
            _ => ApiError::MalformedJson(inner.to_string()),
        }
    })?;
    de.end().map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    Ok(value)
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.into_response().status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::MalformedJson("could not read the body".into())
            }
        })?;
        parse_body(&bytes).map(ApiJson)
    }
}
