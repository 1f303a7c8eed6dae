//! Who and how many get in: the API key (constant-time, `/health` open) and what a request
//! past the in-flight limit gets (503 with `Retry-After`, at once, instead of queueing into a
//! storm of timeouts); `lib.rs` stacks the limit on the API routes, not on the probes.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use tower::BoxError;

use crate::api::AppState;
use crate::error::ApiError;

/// Paths answered without a key.
const OPEN_PATHS: [&str; 1] = ["/health"];

/// Middleware: when a key is configured, refuses requests that lack it with 401.
pub async fn api_key(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(key) = &state.config.api_key {
        if !OPEN_PATHS.contains(&req.uri().path()) && !key_matches(req.headers(), &key.0) {
            return ApiError::Unauthorized.into_response();
        }
    }
    next.run(req).await
}

fn key_matches(headers: &HeaderMap, key: &str) -> bool {
    let given = headers.get("x-api-key").map(|v| v.as_bytes()).unwrap_or_default();
    // ct_eq is constant-time in the content; a length mismatch is false at once, which gives
    // away only the length
    bool::from(given.ct_eq(key.as_bytes()))
}

/// What a request shed past the in-flight limit of `limit` gets.
pub async fn shed(limit: usize, _: BoxError) -> ApiError {
    ApiError::Overloaded(limit)
}
