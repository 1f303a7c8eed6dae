//! The HTTP API: one module per route group, wire types in `types` (addresses in `address`).

pub mod address;
pub mod admission;
pub mod convert;
pub mod extract;
pub mod health;
pub mod openapi;
pub mod pool;
pub mod routes;
pub mod types;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::chain::{RpcClient, StateCache};
use crate::config::Config;
use crate::metrics::Metrics;

/// What every handler shares.
#[derive(Debug)]
pub struct Inner {
    pub config: Config,
    pub cache: StateCache,
    pub rpc: RpcClient,
    pub metrics: Metrics,
    pub probes: health::ProbeCache,
}

/// Router state.
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<Inner>);

impl AppState {
    pub fn new(config: Config) -> Self {
        let cache = StateCache::new(config.cache_duration);
        let rpc = RpcClient::new(config.rpc_timeout);
        let (metrics, probes) = (Metrics::default(), health::ProbeCache::default());
        Self(Arc::new(Inner { config, cache, rpc, metrics, probes }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Counts each request by matched route and status, with its latency.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned(); // a shared string, not a copy
    let start = Instant::now();
    let response = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    state.metrics.record(route, response.status().as_u16(), start.elapsed());
    response
}
