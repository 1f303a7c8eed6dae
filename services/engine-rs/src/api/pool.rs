//! `POST /api/pool`: one pool, its state (given or read from the chain) and a quote.

use alloy_primitives::{I256, U256};
use axum::extract::State;
use axum::Json;

use crate::api::convert::{pool_from_wire, v2_fee};
use crate::api::extract::ApiJson;
use crate::api::types::{ErrorBody, PoolOut, PoolRequest, PoolResponse, PoolState, Quote};
use crate::api::AppState;
use crate::chain::read_pool;
use crate::cycle::Pool;
use crate::decimal::Dec;
use crate::error::ApiError;
use crate::math::{v2, v3, MathError};

/// Quote a swap on one pool.
#[utoipa::path(post, path = "/api/pool", request_body = PoolRequest, responses(
    (status = 200, body = PoolResponse),
    (status = 400, body = ErrorBody, description = "malformed JSON"),
    (status = 413, body = ErrorBody, description = "body over 1 MiB"),
    (status = 422, body = ErrorBody, description = "invalid field or a swap the contract would revert"),
    (status = 502, body = ErrorBody, description = "chain unreachable"),
))]
pub async fn pool(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<PoolRequest>,
) -> Result<Json<PoolResponse>, ApiError> {
    if req.amount_in.is_some() && req.amount_out.is_some() {
        return Err(ApiError::validation("amount_out", "give amount_in or amount_out, not both"));
    }
    let (mut state, block_number) = match req.state {
        Some(s) => (s, None),
        None => {
            let (s, b) = fetch(&app, req.chain_id, req.pool_address, req.dex).await?;
            (s, Some(b))
        }
    };
    if let PoolState::V2(s) = &mut state {
        s.fee_bps = Some(v2_fee(s.fee_bps, s.dex.as_str(), &app.config));
    }
    let pool = pool_from_wire(&state, &app.config, "state")?;
    let zfo = req.zero_for_one.unwrap_or(true);
    let limit = req.sqrt_price_limit_x96.map(|d| d.0);
    let quote = match (req.amount_in, req.amount_out) {
        (Some(a), _) => Some(quote(&pool, zfo, a.0, true, limit)?),
        (_, Some(a)) => Some(quote(&pool, zfo, a.0, false, limit)?),
        _ => None,
    };
    Ok(Json(PoolResponse { pool: PoolOut { state, block_number }, quote }))
}

async fn fetch(
    app: &AppState,
    chain_id: u64,
    address: crate::api::types::WireAddress,
    dex: crate::api::types::Dex,
) -> Result<(PoolState, u64), ApiError> {
    if let Some(hit) = app.cache.get(chain_id, address.0) {
        return Ok(hit);
    }
    let url = app.config.chain_rpc_urls.get(&chain_id).ok_or(ApiError::UnknownChain(chain_id))?;
    let fee = app.config.dex_fee_bps(dex.as_str());
    let (state, block) = read_pool(&app.rpc, url, address.0, dex, fee).await?;
    tracing::info!(chain_id, pool = %address.0, block_number = block, "engine.pool.fetched");
    app.cache.put(chain_id, address.0, state.clone(), block);
    Ok((state, block))
}

/// The amounts a swap really moves; `exact_in` picks the meaning of `amount`.
pub fn quote(
    pool: &Pool,
    zfo: bool,
    amount: U256,
    exact_in: bool,
    limit: Option<U256>,
) -> Result<Quote, ApiError> {
    match pool {
        Pool::V2 { reserve0, reserve1, fee_bps } => {
            if limit.is_some() {
                return Err(ApiError::validation("sqrt_price_limit_x96", "only for v3 pools"));
            }
            let (r_in, r_out) = if zfo { (*reserve0, *reserve1) } else { (*reserve1, *reserve0) };
            let (amount_in, amount_out) = if exact_in {
                (amount, v2::get_amount_out(amount, r_in, r_out, *fee_bps)?)
            } else {
                (v2::get_amount_in(amount, r_in, r_out, *fee_bps)?, amount)
            };
            Ok(Quote {
                amount_in: Dec(amount_in),
                amount_out: Dec(amount_out),
                sqrt_price_x96_after: None,
                tick_after: None,
                liquidity_after: None,
            })
        }
        Pool::V3(state) => {
            let magnitude = I256::try_from(amount).map_err(|_| MathError::MathOverflow)?;
            let specified = if exact_in { magnitude } else { -magnitude };
            let r = v3::swap(state, zfo, specified, limit)?;
            let (paid, got) = if zfo { (r.amount0, r.amount1) } else { (r.amount1, r.amount0) };
            Ok(Quote {
                amount_in: Dec(paid.into_raw()),
                amount_out: Dec((-got).into_raw()),
                sqrt_price_x96_after: Some(Dec(r.sqrt_price_x96)),
                tick_after: Some(r.tick),
                liquidity_after: Some(Dec(r.liquidity)),
            })
        }
    }
}
