//! Pool states and the base configuration the API tests share.
// each test crate (api, admission) uses its own part
#![allow(dead_code)]

use serde_json::{json, Value};
use titan_engine::Config;

pub const POOL: &str = "0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f";
pub const T0: &str = "0x0000000000000000000000000000000000000001";
pub const T1: &str = "0x0000000000000000000000000000000000000002";

pub fn v2_state(r0: &str, r1: &str) -> Value {
    json!({"kind": "v2", "address": POOL, "dex": "uniswap_v2", "token0": T0, "token1": T1,
           "reserve0": r0, "reserve1": r1, "fee_bps": 30})
}

pub fn v3_state() -> Value {
    json!({"kind": "v3", "address": POOL, "dex": "uniswap_v3", "token0": T0, "token1": T1,
           "fee": 3000, "tick_spacing": 60, "sqrt_price_x96": "79228162514264337593543950336",
           "tick": 0, "liquidity": "1000000000000000000",
           "ticks": [{"index": -600, "liquidity_net": "1000000000000000000"},
                     {"index": 600, "liquidity_net": "-1000000000000000000"}]})
}

pub fn config() -> Config {
    Config {
        chain_rpc_urls: [(31337, "http://127.0.0.1:9".to_string())].into(),
        rpc_timeout: std::time::Duration::from_millis(500),
        max_batch: 3,
        ..Config::default()
    }
}
