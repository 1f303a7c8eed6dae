//! `POST /api/quote` (one path, one input) and `POST /api/routes/evaluate` (a batch of cycles).

use axum::extract::State;
use axum::Json;

use crate::api::convert::hops_from_wire;
use crate::api::extract::ApiJson;
use crate::api::types::{
    CycleError, CycleRequest, CycleResult, ErrorBody, HopAmounts, QuoteRequest, QuoteResponse,
    RoutesRequest, RoutesResponse,
};
use crate::api::AppState;
use crate::config::Config;
use crate::cycle::{optimal, path_amounts, PathAmounts};
use crate::decimal::Dec;
use crate::error::ApiError;

fn hop_amounts(p: &PathAmounts) -> Vec<HopAmounts> {
    p.hops.iter().map(|&(i, o)| HopAmounts { amount_in: Dec(i), amount_out: Dec(o) }).collect()
}

/// The output of one path for one input.
#[utoipa::path(post, path = "/api/quote", request_body = QuoteRequest, responses(
    (status = 200, body = QuoteResponse),
    (status = 422, body = ErrorBody),
))]
pub async fn quote(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<QuoteRequest>,
) -> Result<Json<QuoteResponse>, ApiError> {
    let hops = hops_from_wire(&req.hops, &app.config, "hops")?;
    let p = path_amounts(&hops, req.amount_in.0)?;
    Ok(Json(QuoteResponse {
        amount_in: Dec(p.amount_in),
        amount_out: Dec(p.amount_out),
        hops: hop_amounts(&p),
    }))
}

/// One cycle: sized at its optimum (or at its given input), or its own error.
pub fn evaluate_cycle(cycle: &CycleRequest, config: &Config) -> CycleResult {
    let id = cycle.id.clone();
    let sized =
        hops_from_wire(&cycle.hops, config, "hops").and_then(|hops| match cycle.amount_in {
            Some(a) => path_amounts(&hops, a.0).map(Some).map_err(ApiError::from),
            None => optimal(&hops).map_err(ApiError::from),
        });
    match sized {
        Ok(Some(p)) => CycleResult::Quote {
            id,
            amount_in: Dec(p.amount_in),
            amount_out: Dec(p.amount_out),
            gross_profit: Dec(p.gross_profit()),
            hops: hop_amounts(&p),
        },
        Ok(None) => {
            let zero = HopAmounts { amount_in: Dec::default(), amount_out: Dec::default() };
            CycleResult::Quote {
                id,
                amount_in: Dec::default(),
                amount_out: Dec::default(),
                gross_profit: Dec::default(),
                hops: vec![zero; cycle.hops.len()],
            }
        }
        Err(e) => CycleResult::Error {
            id,
            error: CycleError { code: e.code().to_string(), message: e.to_string() },
        },
    }
}

/// One cycle as sent: read it (a field that does not fit is this cycle's `validation_failed`),
/// then size it.
pub fn evaluate_value(cycle: &serde_json::Value, config: &Config) -> CycleResult {
    match serde_path_to_error::deserialize::<_, CycleRequest>(cycle) {
        Ok(c) => evaluate_cycle(&c, config),
        Err(e) => {
            let path = e.path().to_string();
            let e = ApiError::validation(path, e.into_inner().to_string());
            CycleResult::Error {
                id: cycle.get("id").and_then(|v| v.as_str()).map(str::to_string),
                error: CycleError { code: e.code().to_string(), message: e.to_string() },
            }
        }
    }
}

/// A batch of cycles, each sized at its optimum; one bad cycle (malformed or failing) does not
/// fail the batch, a malformed body does.
#[utoipa::path(post, path = "/api/routes/evaluate", request_body = RoutesRequest, responses(
    (status = 200, body = RoutesResponse),
    (status = 422, body = ErrorBody, description = "batch above ENGINE_MAX_BATCH or malformed"),
))]
pub async fn evaluate(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<RoutesRequest>,
) -> Result<Json<RoutesResponse>, ApiError> {
    let limit = app.config.max_batch;
    if req.cycles.len() > limit {
        return Err(ApiError::BatchTooLarge { got: req.cycles.len(), limit });
    }
    let results = if req.cycles.len() <= 8 {
        req.cycles.iter().map(|c| evaluate_value(c, &app.config)).collect()
    } else {
        let app2 = app.clone();
        tokio::task::spawn_blocking(move || {
            req.cycles.iter().map(|c| evaluate_value(c, &app2.config)).collect()
        })
        .await
        .unwrap_or_default()
    };
    Ok(Json(RoutesResponse { results }))
}
