//! The OpenAPI document, generated from the handlers and wire types.

use axum::Json;
use utoipa::OpenApi;

use crate::api::types::*;
use crate::api::{health, pool, routes};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Titan engine",
        description = "Exact Uniswap V2/V3 pool math, cycle sizing and pool quotes."
    ),
    paths(
        health::health,
        health::ready,
        health::prometheus,
        health::json_metrics,
        pool::pool,
        routes::quote,
        routes::evaluate
    ),
    components(schemas(
        PoolState,
        V2PoolState,
        V3PoolState,
        WireTick,
        Dex,
        PoolRequest,
        PoolResponse,
        PoolOut,
        Quote,
        QuoteRequest,
        QuoteResponse,
        HopRequest,
        HopAmounts,
        CycleRequest,
        CycleResult,
        CycleError,
        RoutesRequest,
        RoutesResponse,
        Health,
        Readiness,
        ErrorBody,
        ErrorDetail
    ))
)]
pub struct ApiDoc;

/// The document as pretty JSON, as committed in `openapi.json`.
pub fn document() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

/// `GET /openapi.json`
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
