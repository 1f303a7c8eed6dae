//! Wire states to math states, validated field by field.

use crate::api::types::{HopRequest, PoolState};
use crate::config::Config;
use crate::cycle::{Hop, Pool};
use crate::error::ApiError;
use crate::math::v3::tick_math::{MAX_TICK, MIN_TICK};
use crate::math::v3::{Tick, V3State};

/// The V2 fee of a state: its own, or the DEX's configured one.
pub fn v2_fee(fee_bps: Option<u32>, dex: &str, config: &Config) -> u32 {
    fee_bps.unwrap_or_else(|| config.dex_fee_bps(dex))
}

/// Converts a wire state; `field` names it in error messages.
pub fn pool_from_wire(state: &PoolState, config: &Config, field: &str) -> Result<Pool, ApiError> {
    match state {
        PoolState::V2(s) => {
            let fee_bps = v2_fee(s.fee_bps, s.dex.as_str(), config);
            if fee_bps >= 10_000 {
                return Err(ApiError::validation(
                    format!("{field}.fee_bps"),
                    "must be below 10000",
                ));
            }
            Ok(Pool::V2 { reserve0: s.reserve0.0, reserve1: s.reserve1.0, fee_bps })
        }
        PoolState::V3(s) => {
            if !(1..=16384).contains(&s.tick_spacing) {
                return Err(ApiError::validation(
                    format!("{field}.tick_spacing"),
                    "must be in [1, 16384]",
                ));
            }
            if s.fee >= 1_000_000 {
                return Err(ApiError::validation(format!("{field}.fee"), "must be below 1000000"));
            }
            if !(MIN_TICK..=MAX_TICK).contains(&s.tick) {
                return Err(ApiError::validation(format!("{field}.tick"), "out of range"));
            }
            let mut ticks = Vec::with_capacity(s.ticks.len());
            for (i, t) in s.ticks.iter().enumerate() {
                let at = format!("{field}.ticks[{i}]");
                if !(MIN_TICK..=MAX_TICK).contains(&t.index) || t.index % s.tick_spacing != 0 {
                    return Err(ApiError::validation(
                        at,
                        "index out of range or not a multiple of tick_spacing",
                    ));
                }
                if ticks.last().is_some_and(|p: &Tick| p.index >= t.index) {
                    return Err(ApiError::validation(
                        at,
                        "ticks must be sorted by index, without duplicates",
                    ));
                }
                ticks.push(Tick { index: t.index, liquidity_net: t.liquidity_net.0 });
            }
            Ok(Pool::V3(V3State {
                sqrt_price_x96: s.sqrt_price_x96.0,
                tick: s.tick,
                liquidity: s.liquidity.0,
                fee: s.fee,
                tick_spacing: s.tick_spacing,
                ticks,
            }))
        }
    }
}

/// Converts the hops of a path.
pub fn hops_from_wire(
    hops: &[HopRequest],
    config: &Config,
    field: &str,
) -> Result<Vec<Hop>, ApiError> {
    if hops.is_empty() {
        return Err(ApiError::validation(field, "a path needs at least one hop"));
    }
    hops.iter()
        .enumerate()
        .map(|(i, h)| {
            let pool = pool_from_wire(&h.pool, config, &format!("{field}[{i}].pool"))?;
            Ok(Hop { pool, zero_for_one: h.zero_for_one })
        })
        .collect()
}
