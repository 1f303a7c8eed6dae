//! `GET /health`, `GET /ready`, `GET /metrics`, `GET /api/metrics`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use crate::api::types::{Health, Readiness};
use crate::api::AppState;

/// Liveness.
#[utoipa::path(get, path = "/health", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into() })
}

/// Readiness: the math is always ready; chains are listed as configured (read on demand).
#[utoipa::path(get, path = "/ready", responses((status = 200, body = Readiness)))]
pub async fn ready(State(state): State<AppState>) -> Json<Readiness> {
    let mut checks = BTreeMap::from([("math".to_string(), "ok".to_string())]);
    for id in state.config.chain_rpc_urls.keys() {
        checks.insert(format!("chain:{id}"), "configured".into());
    }
    Json(Readiness { ready: true, checks })
}

/// Prometheus text.
#[utoipa::path(get, path = "/metrics", responses((status = 200, body = String, content_type = "text/plain")))]
pub async fn prometheus(State(state): State<AppState>) -> impl IntoResponse {
    let text = state.metrics.to_prometheus(&state.cache.stats);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

/// Requests by route and status, latency quantiles, cache hits and misses, uptime.
#[utoipa::path(get, path = "/api/metrics", responses((status = 200, body = Object)))]
pub async fn json_metrics(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.metrics.to_json(&state.cache.stats))
}
