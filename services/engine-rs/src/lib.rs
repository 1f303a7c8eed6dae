//! Titan's engine: exact Uniswap V2/V3 pool math, cycle sizing and the pool API.
//!
//! `main.rs` reads [`Config`] and calls [`run`]; tests use [`app`] in process.

pub mod api;
pub mod chain;
pub mod config;
pub mod cycle;
pub mod decimal;
pub mod error;
pub mod math;
pub mod metrics;

use std::future::Future;

use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Request, Uri};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::LoadShedLayer;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use api::AppState;
pub use config::Config;
use error::ApiError;

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(uri.path().to_string())
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed { method: method.to_string(), path: uri.path().to_string() }
}

/// The router, with its layers.
pub fn app(state: AppState) -> Router {
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
        let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
        tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
    })
    // a 5xx is logged once, with its cause, by `error::server_failures`
    .on_failure(());
    // Router::layer wraps each route on its own: the global limit shares one semaphore
    let limit = state.config.max_in_flight;
    let shed = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(move |e| api::admission::shed(limit, e)))
        .layer(LoadShedLayer::new())
        .layer(GlobalConcurrencyLimitLayer::new(limit));
    // Batches queue for their own permits before their bodies are read: 64 clients sending
    // 800 KB batches at once held 64 bodies and their parses (RSS 73 MB) for no more speed.
    let batches = GlobalConcurrencyLimitLayer::new(state.config.max_batches_in_flight);
    Router::new()
        .route("/api/metrics", get(api::health::json_metrics))
        .route("/api/pool", post(api::pool::pool))
        .route("/api/quote", post(api::routes::quote))
        .route("/api/routes/evaluate", post(api::routes::evaluate).layer(batches))
        .route("/openapi.json", get(api::openapi::openapi_json))
        .layer(shed)
        // probes are added after the limit, so a saturated engine still answers them
        .route("/health", get(api::health::health))
        .route("/ready", get(api::health::ready))
        .route("/metrics", get(api::health::prometheus))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // one layer of them all, outermost first: Router::layer boxes each layer it is given
        // around every route, and a request then paid a boxed clone and a boxed future per layer
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(trace)
                .layer(axum::middleware::from_fn(error::server_failures))
                .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
                .layer(axum::middleware::from_fn_with_state(state.clone(), api::track))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    api::admission::api_key,
                )),
        )
        .with_state(state)
}

/// Serves until `shutdown` completes, then drains in-flight requests.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "engine.server.started");
    axum::serve(listener, app(AppState::new(config))).with_graceful_shutdown(shutdown).await?;
    tracing::info!("engine.server.stopped");
    Ok(())
}

/// Sets up `tracing`: JSON lines when `LOG_FORMAT=json`, text otherwise.
pub fn init_tracing(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&config.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if config.log_json { builder.json().try_init() } else { builder.try_init() };
}
