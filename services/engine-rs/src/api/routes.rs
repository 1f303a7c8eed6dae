//! `POST /api/quote` (one path, one input) and `POST /api/routes/evaluate` (a batch of cycles).

use std::collections::HashMap;
use std::sync::Arc;

use alloy_primitives::U256;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::api::convert::{hops_from_wire, pool_from_wire};
use crate::api::extract::ApiJson;
use crate::api::types::{
    CycleError, CycleRequest, CycleResult, ErrorBody, HopAmounts, PoolState, QuoteRequest,
    QuoteResponse, RoutesRequest, RoutesResponse,
};
use crate::api::AppState;
use crate::config::Config;
use crate::cycle::{optimal, path_amounts, Hop, PathAmounts, Pool};
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

/// A cycle's answer from its hops (or the error reading them).
fn sized(
    id: Option<String>,
    hops: Result<Vec<Hop>, ApiError>,
    amount_in: Option<U256>,
    hop_count: usize,
) -> CycleResult {
    let sized = hops.and_then(|hops| match amount_in {
        Some(a) => path_amounts(&hops, a).map(Some).map_err(ApiError::from),
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
                hops: vec![zero; hop_count],
            }
        }
        Err(e) => CycleResult::Error {
            id,
            error: CycleError { code: e.code().to_string(), message: e.to_string() },
        },
    }
}

/// One cycle: sized at its optimum (or at its given input), or its own error.
pub fn evaluate_cycle(cycle: &CycleRequest, config: &Config) -> CycleResult {
    let hops = hops_from_wire(&cycle.hops, config, "hops");
    sized(cycle.id.clone(), hops, cycle.amount_in.map(|a| a.0), cycle.hops.len())
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

/// A cycle with its pools still JSON text, so that a batch reads each pool it sends once.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCycle<'a> {
    #[serde(default)]
    id: Option<String>,
    #[serde(borrow)]
    hops: Vec<RawHop<'a>>,
    #[serde(default)]
    amount_in: Option<Dec<U256>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHop<'a> {
    #[serde(borrow)]
    pool: &'a RawValue,
    zero_for_one: bool,
}

/// The pools of one batch by their JSON text (scanners send a pool in every cycle through it),
/// each read and checked once; `None` for one that does not read cleanly.
pub type PoolCache<'a> = HashMap<PoolText<'a>, Option<Pool>>;

/// A pool's JSON text as a key: equal when the whole text is, hashed on its length and ends
/// only (the address opens it, the ticks close it), as hashing every tick costs more than
/// comparing the text on a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolText<'a>(&'a str);

impl std::hash::Hash for PoolText<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let bytes = self.0.as_bytes();
        let ends = 96.min(bytes.len());
        state.write_usize(bytes.len());
        state.write(&bytes[..ends]);
        state.write(&bytes[bytes.len() - ends..]);
    }
}

/// The hops of a cycle whose every part reads cleanly, through `pools`.
fn clean_hops<'a>(
    cycle: &RawCycle<'a>,
    config: &Config,
    pools: &mut PoolCache<'a>,
) -> Option<Vec<Hop>> {
    if cycle.hops.is_empty() {
        return None;
    }
    cycle
        .hops
        .iter()
        .map(|h| {
            let pool = pools.entry(PoolText(h.pool.get())).or_insert_with(|| {
                let state = serde_json::from_str::<PoolState>(h.pool.get()).ok()?;
                pool_from_wire(&state, config, "pool").ok()
            });
            Some(Hop { pool: pool.clone()?, zero_for_one: h.zero_for_one })
        })
        .collect()
}

/// One cycle of a batch as sent. What reads cleanly is sized through `pools`; anything else goes
/// through [`evaluate_value`], which names the field at fault, as it would alone.
pub fn evaluate_raw<'a>(
    cycle: &'a RawValue,
    config: &Config,
    pools: &mut PoolCache<'a>,
) -> CycleResult {
    let clean = serde_json::from_str::<RawCycle<'a>>(cycle.get()).ok().and_then(|c| {
        let hops = clean_hops(&c, config, pools)?;
        Some((c.id, hops, c.amount_in))
    });
    match clean {
        Some((id, hops, amount_in)) => {
            let count = hops.len();
            sized(id, Ok(hops), amount_in.map(|a| a.0), count)
        }
        None => match serde_json::from_str::<serde_json::Value>(cycle.get()) {
            Ok(value) => evaluate_value(&value, config),
            // the body parsed, so its parts do
            Err(e) => sized(None, Err(ApiError::MalformedJson(e.to_string())), None, 0),
        },
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
    let batch = |app: &AppState, cycles: &[Box<RawValue>]| -> Vec<CycleResult> {
        let mut pools = PoolCache::new();
        cycles.iter().map(|c| evaluate_raw(c, &app.config, &mut pools)).collect()
    };
    if req.cycles.len() <= 8 {
        return Ok(Json(RoutesResponse { results: batch(&app, &req.cycles) }));
    }
    // big batches are split across the cores
    let cycles = Arc::new(req.cycles);
    let parts = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = cycles.len().div_ceil(parts);
    let tasks: Vec<_> = (0..cycles.len())
        .step_by(chunk)
        .map(|start| {
            let (app, cycles) = (app.clone(), Arc::clone(&cycles));
            tokio::task::spawn_blocking(move || {
                batch(&app, &cycles[start..(start + chunk).min(cycles.len())])
            })
        })
        .collect();
    let mut results = Vec::with_capacity(cycles.len());
    for task in tasks {
        // sizing does not panic (fuzzed); if it ever did, the panic goes on, not an empty answer
        results.extend(task.await.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())));
    }
    Ok(Json(RoutesResponse { results }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::extract::parse_body;

    const POOL: &str = r#""address": "0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f", "token0": "0x0000000000000000000000000000000000000001", "token1": "0x0000000000000000000000000000000000000002""#;

    fn v2(r0: &str, r1: &str, extra: &str) -> String {
        format!(
            r#"{{"kind": "v2", {POOL}, "dex": "uniswap_v2", "reserve0": "{r0}", "reserve1": "{r1}"{extra}}}"#
        )
    }

    fn v3(ticks: &str) -> String {
        format!(
            r#"{{"kind": "v3", {POOL}, "dex": "uniswap_v3", "fee": 3000, "tick_spacing": 60, "sqrt_price_x96": "79228162514264337593543950336", "tick": 0, "liquidity": "1000000000000000000000", "ticks": [{ticks}]}}"#
        )
    }

    /// Every cycle of a batch answers as it would alone through `evaluate_value`, whether its
    /// pools come from the batch's cache or not, and whatever is wrong with it.
    #[test]
    fn batch_answers_as_each_cycle_alone() {
        let ticks = r#"{"index": -887220, "liquidity_net": "1000000000000000000000"}, {"index": -600, "liquidity_net": "5"}, {"index": 887220, "liquidity_net": "-1000000000000000000005"}"#;
        let unsorted =
            r#"{"index": 600, "liquidity_net": "1"}, {"index": -600, "liquidity_net": "-1"}"#;
        let (a, b) = (v2("1100000000000000000000", "1000000000000000000000", ""), v3(ticks));
        let negative = v2("-5", "1000", "");
        let hop = |pool: &str, zfo: bool| format!(r#"{{"pool": {pool}, "zero_for_one": {zfo}}}"#);
        let cycles = [
            format!(r#"{{"id": "v3", "hops": [{}, {}]}}"#, hop(&b, true), hop(&a, false)),
            format!(r#"{{"id": "again", "hops": [{}, {}]}}"#, hop(&b, true), hop(&a, false)),
            format!(r#"{{"hops": [{}, {}], "amount_in": "1000"}}"#, hop(&b, true), hop(&a, false)),
            format!(r#"{{"id": "neg", "hops": [{}]}}"#, hop(&negative, true)),
            format!(r#"{{"id": "neg1", "hops": [{}, {}]}}"#, hop(&a, true), hop(&negative, true)),
            format!(r#"{{"id": "x", "hops": [{}], "extra": 1}}"#, hop(&a, true)),
            format!(r#"{{"id": "x2", "hops": [{}]}}"#, hop(&v2("1", "2", r#", "extra": 1"#), true)),
            format!(
                r#"{{"id": "fee", "hops": [{}]}}"#,
                hop(&v2("1", "2", r#", "fee_bps": 10000"#), true)
            ),
            format!(
                r#"{{"id": "ticks", "hops": [{}, {}]}}"#,
                hop(&a, true),
                hop(&v3(unsorted), true)
            ),
            r#"{"id": "none", "hops": []}"#.to_string(),
            format!(
                r#"{{"id": "dup", "id": "dup2", "hops": [{}, {}]}}"#,
                hop(&b, true),
                hop(&a, false)
            ),
            r#"{"id": 5}"#.to_string(),
            "[1, 2]".to_string(),
        ];
        let body = format!(r#"{{"cycles": [{}]}}"#, cycles.join(", "));
        let req: RoutesRequest = parse_body(body.as_bytes()).unwrap();
        let config = Config::default();
        let mut pools = PoolCache::new();
        for raw in &req.cycles {
            let alone = serde_json::from_str::<serde_json::Value>(raw.get()).unwrap();
            let alone = serde_json::to_value(evaluate_value(&alone, &config)).unwrap();
            let batched = serde_json::to_value(evaluate_raw(raw, &config, &mut pools)).unwrap();
            assert_eq!(batched, alone, "{}", raw.get());
        }
        let first =
            serde_json::to_value(evaluate_raw(&req.cycles[0], &config, &mut pools)).unwrap();
        assert!(first["gross_profit"].as_str().unwrap().parse::<u128>().unwrap() > 0, "{first}");
        assert_eq!(pools.len(), 6, "each distinct pool text read once");
    }
}
