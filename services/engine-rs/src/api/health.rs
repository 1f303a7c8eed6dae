//! `GET /health`, `GET /ready`, `GET /metrics`, `GET /api/metrics`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use crate::api::types::{Health, Readiness};
use crate::api::AppState;
use crate::chain::{redact, ChainError};

/// Liveness: the shared `titan_common.models.Health`.
#[utoipa::path(get, path = "/health", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok".into(), service: "engine".into() })
}

/// How long one chain probe may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a probe's answer is reused.
pub const PROBE_TTL: Duration = Duration::from_secs(3);

/// The last chain probes and when they ran.
#[derive(Debug, Default)]
pub struct ProbeCache(Mutex<Option<(Instant, BTreeMap<String, String>)>>);

async fn probe_chains(state: &AppState) -> BTreeMap<String, String> {
    if let Some((at, checks)) = state.probes.0.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        if at.elapsed() < PROBE_TTL {
            return checks.clone();
        }
    }
    let mut set = tokio::task::JoinSet::new();
    for (&id, url) in &state.config.chain_rpc_urls {
        let (rpc, url) = (state.rpc.clone(), url.clone());
        set.spawn(async move {
            let verdict = match rpc.chain_id(&url, PROBE_TIMEOUT).await {
                Ok(got) if got == id => "ok".to_string(),
                Ok(got) => format!("wrong chain: the endpoint answers chain id {got}"),
                Err(ChainError::Unreachable(why) | ChainError::BadResponse(why)) => {
                    format!("unreachable: {}", redact(&why, &url))
                }
                Err(ChainError::NotAPool(why)) => {
                    format!("unreachable: eth_chainId failed: {}", redact(&why, &url))
                }
            };
            (format!("chain:{id}"), verdict)
        });
    }
    let mut checks = BTreeMap::new();
    while let Some(done) = set.join_next().await {
        if let Ok((k, v)) = done {
            checks.insert(k, v);
        }
    }
    *state.probes.0.lock().unwrap_or_else(|e| e.into_inner()) =
        Some((Instant::now(), checks.clone()));
    checks
}

/// Readiness: ready when the math is (pure-math requests need no chain); each configured chain
/// is probed with `eth_chainId` (1 s timeout, answer kept 3 s) and reported in `checks`.
#[utoipa::path(get, path = "/ready", responses((status = 200, body = Readiness)))]
pub async fn ready(State(state): State<AppState>) -> Json<Readiness> {
    let mut checks = probe_chains(&state).await;
    checks.insert("math".to_string(), "ok".to_string());
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
