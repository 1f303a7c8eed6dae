//! Wire types, mirroring `titan_common.models`. Big integers are decimal strings.

use std::fmt;

use alloy_primitives::{I256, U256};
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

pub use super::address::WireAddress;
use crate::decimal::Dec;

/// The DEXes the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dex {
    UniswapV2,
    Sushiswap,
    Quickswap,
    UniswapV3,
}

impl Dex {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::UniswapV2 => "uniswap_v2",
            Self::Sushiswap => "sushiswap",
            Self::Quickswap => "quickswap",
            Self::UniswapV3 => "uniswap_v3",
        }
    }
}

/// A V2 pair's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct V2PoolState {
    #[schema(value_type = String, example = "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f")]
    pub address: WireAddress,
    pub dex: Dex,
    #[schema(value_type = String)]
    pub token0: WireAddress,
    #[schema(value_type = String)]
    pub token1: WireAddress,
    #[schema(value_type = String, example = "1000000000000000000000")]
    pub reserve0: Dec<U256>,
    #[schema(value_type = String, example = "2000000000000")]
    pub reserve1: Dec<U256>,
    /// Fee in basis points; the DEX's configured fee when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_bps: Option<u32>,
}

/// An initialized tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WireTick {
    pub index: i32,
    /// Signed decimal string.
    #[schema(value_type = String, example = "-1000000")]
    pub liquidity_net: Dec<i128>,
}

/// A V3 pool's state with the initialized ticks around its price, sorted by index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct V3PoolState {
    #[schema(value_type = String)]
    pub address: WireAddress,
    pub dex: Dex,
    #[schema(value_type = String)]
    pub token0: WireAddress,
    #[schema(value_type = String)]
    pub token1: WireAddress,
    /// Fee in hundredths of a bip (3000 = 0.3%).
    pub fee: u32,
    pub tick_spacing: i32,
    #[schema(value_type = String, example = "79228162514264337593543950336")]
    pub sqrt_price_x96: Dec<U256>,
    pub tick: i32,
    #[schema(value_type = String)]
    pub liquidity: Dec<u128>,
    #[serde(default)]
    pub ticks: Vec<WireTick>,
}

/// A pool's state, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PoolState {
    V2(V2PoolState),
    V3(V3PoolState),
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum PoolKind {
    V2,
    V3,
}

/// Read by hand: serde's derive for an internally tagged enum first copies every object into
/// a buffer of its own (each string allocated) to find the tag. Titan's clients write `kind`
/// first, so it is read first and the rest goes straight into its variant (with field paths in
/// errors): a `POST /api/pool` body reads in 1.9 us instead of 2.3, a batch of V3 pools with
/// 120 ticks each in three quarters of the time. An object with `kind` further on is buffered,
/// as before.
impl<'de> Deserialize<'de> for PoolState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PoolStateVisitor)
    }
}

struct PoolStateVisitor;

impl<'de> Visitor<'de> for PoolStateVisitor {
    type Value = PoolState;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a pool state: an object with a `kind`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PoolState, A::Error> {
        let mut before = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key != "kind" {
                before.insert(key, map.next_value()?);
                continue;
            }
            let kind: PoolKind = map.next_value()?;
            if before.is_empty() {
                let rest = MapAccessDeserializer::new(map);
                return match kind {
                    PoolKind::V2 => V2PoolState::deserialize(rest).map(PoolState::V2),
                    PoolKind::V3 => V3PoolState::deserialize(rest).map(PoolState::V3),
                };
            }
            while let Some((key, value)) = map.next_entry()? {
                before.insert(key, value);
            }
            let fields = serde_json::Value::Object(before);
            return match kind {
                PoolKind::V2 => V2PoolState::deserialize(fields).map(PoolState::V2),
                PoolKind::V3 => V3PoolState::deserialize(fields).map(PoolState::V3),
            }
            .map_err(de::Error::custom);
        }
        Err(de::Error::missing_field("kind"))
    }
}

/// `POST /api/pool`
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolRequest {
    pub chain_id: u64,
    #[schema(value_type = String)]
    pub pool_address: WireAddress,
    pub dex: Dex,
    /// The state to quote against; read from the chain when absent.
    #[serde(default)]
    pub state: Option<PoolState>,
    /// Exact input (mutually exclusive with `amount_out`).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub amount_in: Option<Dec<U256>>,
    /// Exact output.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub amount_out: Option<Dec<U256>>,
    /// Direction, token0 -> token1 by default.
    #[serde(default)]
    pub zero_for_one: Option<bool>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub sqrt_price_limit_x96: Option<Dec<U256>>,
}

/// The state a quote used, with the block it was read at when it came from the chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PoolOut {
    #[serde(flatten)]
    pub state: PoolState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_number: Option<u64>,
}

/// Amounts a swap really moves.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Quote {
    #[schema(value_type = String)]
    pub amount_in: Dec<U256>,
    #[schema(value_type = String)]
    pub amount_out: Dec<U256>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub sqrt_price_x96_after: Option<Dec<U256>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tick_after: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub liquidity_after: Option<Dec<u128>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PoolResponse {
    pub pool: PoolOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<Quote>,
}

/// One hop of a path.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HopRequest {
    pub pool: PoolState,
    pub zero_for_one: bool,
}

/// `POST /api/quote`: one path, one input.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    pub hops: Vec<HopRequest>,
    #[schema(value_type = String)]
    pub amount_in: Dec<U256>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct HopAmounts {
    #[schema(value_type = String)]
    pub amount_in: Dec<U256>,
    #[schema(value_type = String)]
    pub amount_out: Dec<U256>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuoteResponse {
    #[schema(value_type = String)]
    pub amount_in: Dec<U256>,
    #[schema(value_type = String)]
    pub amount_out: Dec<U256>,
    pub hops: Vec<HopAmounts>,
}

/// A cycle to size: its input is optimised unless `amount_in` is given.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CycleRequest {
    #[serde(default)]
    pub id: Option<String>,
    pub hops: Vec<HopRequest>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub amount_in: Option<Dec<U256>>,
}

/// `POST /api/routes/evaluate`
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutesRequest {
    /// Each read on its own: a cycle that does not fit `CycleRequest` gets its own error result.
    #[schema(value_type = Vec<CycleRequest>)]
    pub cycles: Vec<Box<serde_json::value::RawValue>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CycleError {
    pub code: String,
    pub message: String,
}

/// One cycle's answer: its optimum, or its own error.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum CycleResult {
    Quote {
        id: Option<String>,
        #[schema(value_type = String)]
        amount_in: Dec<U256>,
        #[schema(value_type = String)]
        amount_out: Dec<U256>,
        /// amount_out - amount_in, signed.
        #[schema(value_type = String)]
        gross_profit: Dec<I256>,
        hops: Vec<HopAmounts>,
    },
    Error {
        id: Option<String>,
        error: CycleError,
    },
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoutesResponse {
    pub results: Vec<CycleResult>,
}

/// `titan_common.models.Health`: `{"status": "ok", "service": "engine"}`, nothing more.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub service: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Readiness {
    /// True when the math is: pure-math requests need no chain.
    pub ready: bool,
    /// `math` and one `chain:<id>` per configured chain: `ok` or `unreachable: <reason>`.
    pub checks: std::collections::BTreeMap<String, String>,
}

/// The error body of every failure.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `kind` first (read straight through) or anywhere else (buffered): the same state, the
    /// same errors; a field path into the state when `kind` comes first.
    #[test]
    fn pool_state_kind_first_or_later() {
        let fields = [
            r#""address": "0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f""#,
            r#""dex": "uniswap_v2""#,
            r#""token0": "0x0000000000000000000000000000000000000001""#,
            r#""token1": "0x0000000000000000000000000000000000000002""#,
            r#""reserve0": "1000""#,
            r#""reserve1": "2000""#,
        ];
        let with_kind_at = |at: usize, kind: &str, extra: &str| {
            let mut parts: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
            parts.insert(at, format!(r#""kind": "{kind}""#));
            if !extra.is_empty() {
                parts.push(extra.to_string());
            }
            format!("{{{}}}", parts.join(", "))
        };
        let first: PoolState = serde_json::from_str(&with_kind_at(0, "v2", "")).unwrap();
        let PoolState::V2(v2) = &first else { panic!("not v2: {first:?}") };
        assert_eq!(v2.reserve1.0, U256::from(2000));
        for at in 1..=fields.len() {
            let later: PoolState = serde_json::from_str(&with_kind_at(at, "v2", "")).unwrap();
            assert_eq!(later, first, "kind at {at}");
            for (kind, extra, error) in [
                ("v4", "", "unknown variant `v4`, expected `v2` or `v3`"),
                ("v2", r#""x": 1"#, "unknown field `x`"),
                ("v3", "", "unknown field `reserve0`"),
            ] {
                for at in [0, at] {
                    let text = with_kind_at(at, kind, extra);
                    let err = serde_json::from_str::<PoolState>(&text).unwrap_err().to_string();
                    assert!(err.contains(error), "{text}: {err}");
                }
            }
        }
        let err = serde_json::from_str::<PoolState>(&format!("{{{}}}", fields.join(", ")));
        assert!(err.unwrap_err().to_string().contains("missing field `kind`"));
        let bad = with_kind_at(0, "v2", "").replace("\"1000\"", "\"-1\"");
        let mut de = serde_json::Deserializer::from_str(&bad);
        let err = serde_path_to_error::deserialize::<_, PoolState>(&mut de).unwrap_err();
        assert_eq!(err.path().to_string(), "reserve0");
    }
}
