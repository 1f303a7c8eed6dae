//! JSON-RPC reads of pool state: V2 `getReserves`; V3 `slot0`, `liquidity`, `fee`,
//! `tickSpacing` and the initialized ticks of the bitmap words around the price
//! (`tickBitmap`, `ticks`), all at one block.

use std::time::Duration;

use alloy_primitives::{keccak256, Address, U256};
use serde_json::{json, Value};

use crate::api::types::{Dex, PoolState, V2PoolState, V3PoolState, WireAddress, WireTick};
use crate::decimal::Dec;

/// Bitmap words read on each side of the current one.
const WORDS_EACH_SIDE: i32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("chain unreachable: {0}")]
    Unreachable(String),
    #[error("unexpected answer from the chain: {0}")]
    BadResponse(String),
    #[error("not a pool of the kind given: {0}")]
    NotAPool(String),
}

impl ChainError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unreachable(_) => "upstream_unavailable",
            Self::BadResponse(_) => "upstream_bad_response",
            Self::NotAPool(_) => "pool_not_found",
        }
    }
}

/// A JSON-RPC client with a timeout.
#[derive(Debug, Clone)]
pub struct RpcClient {
    http: reqwest::Client,
}

impl RpcClient {
    pub fn new(timeout: Duration) -> Self {
        let http = reqwest::Client::builder().timeout(timeout).build().unwrap_or_default();
        Self { http }
    }

    /// `eth_chainId`, within `timeout` (shorter than the client's own, for probes).
    pub async fn chain_id(&self, url: &str, timeout: Duration) -> Result<u64, ChainError> {
        let answer = tokio::time::timeout(timeout, self.batch(url, &[json!(["eth_chainId", []])]))
            .await
            .map_err(|_| ChainError::Unreachable(format!("no answer within {timeout:?}")))??;
        let hex = answer[0].as_str().unwrap_or_default().trim_start_matches("0x");
        u64::from_str_radix(hex, 16).map_err(|_| ChainError::BadResponse("eth_chainId".into()))
    }

    async fn batch(&self, url: &str, calls: &[Value]) -> Result<Vec<Value>, ChainError> {
        let body: Vec<Value> = calls
            .iter()
            .enumerate()
            .map(|(id, c)| json!({"jsonrpc": "2.0", "id": id, "method": c[0], "params": c[1]}))
            .collect();
        let resp = self.http.post(url).json(&body).send().await;
        let resp = resp.map_err(|e| ChainError::Unreachable(describe(e, url)))?;
        let mut answers: Vec<Value> =
            resp.json().await.map_err(|e| ChainError::BadResponse(describe(e, url)))?;
        answers.sort_by_key(|a| a["id"].as_u64().unwrap_or(u64::MAX));
        if answers.len() != calls.len() {
            return Err(ChainError::BadResponse("batch answer of the wrong length".into()));
        }
        answers
            .into_iter()
            .map(|a| match a.get("result") {
                Some(r) => Ok(r.clone()),
                None => Err(ChainError::NotAPool(a["error"]["message"].to_string())),
            })
            .collect()
    }
}

/// A reqwest error with its causes but without the URL, which can carry an API key.
pub fn describe(e: reqwest::Error, url: &str) -> String {
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    redact(&msg, url)
}

/// `msg` with every occurrence of `url` (with or without its trailing slash) hidden.
pub fn redact(msg: &str, url: &str) -> String {
    let bare = url.trim_end_matches('/');
    if bare.is_empty() {
        return msg.to_string();
    }
    msg.replace(bare, "<rpc url>")
}

fn selector(signature: &str) -> [u8; 4] {
    let hash = keccak256(signature.as_bytes());
    [hash[0], hash[1], hash[2], hash[3]]
}

fn call(to: Address, data: Vec<u8>, block: &str) -> Value {
    let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
    json!(["eth_call", [{"to": to.to_string(), "data": format!("0x{hex}")}, block]])
}

fn call_signed_arg(to: Address, sig: &str, arg: i64, block: &str) -> Value {
    let mut data = selector(sig).to_vec();
    let word =
        if arg < 0 { U256::MAX - U256::from(arg.unsigned_abs() - 1) } else { U256::from(arg) };
    data.extend_from_slice(&word.to_be_bytes::<32>());
    call(to, data, block)
}

fn words(v: &Value) -> Result<Vec<U256>, ChainError> {
    let s = v.as_str().ok_or_else(|| ChainError::BadResponse("eth_call result".into()))?;
    let hex = s.trim_start_matches("0x");
    if hex.is_empty() || hex.len() % 64 != 0 {
        return Err(ChainError::NotAPool(format!("empty or odd return data {s:.20}")));
    }
    (0..hex.len() / 64)
        .map(|i| {
            U256::from_str_radix(&hex[i * 64..i * 64 + 64], 16)
                .map_err(|e| ChainError::BadResponse(e.to_string()))
        })
        .collect()
}

fn signed(word: U256, bits: usize) -> i128 {
    let low = word.as_limbs()[0] as u128 | ((word.as_limbs()[1] as u128) << 64);
    let shift = 128 - bits;
    ((low << shift) as i128) >> shift
}

fn address_word(word: U256) -> WireAddress {
    WireAddress(Address::from_slice(&word.to_be_bytes::<32>()[12..]))
}

/// Reads a pool's state at the latest block; returns it with the block number.
pub async fn read_pool(
    client: &RpcClient,
    url: &str,
    pool: Address,
    dex: Dex,
    fee_bps: u32,
) -> Result<(PoolState, u64), ChainError> {
    let head = client.batch(url, &[json!(["eth_blockNumber", []])]).await?;
    let block_hex = head[0].as_str().unwrap_or("0x0").to_string();
    let block = u64::from_str_radix(block_hex.trim_start_matches("0x"), 16)
        .map_err(|e| ChainError::BadResponse(e.to_string()))?;
    let b = block_hex.as_str();
    let simple = |sig: &str| call(pool, selector(sig).to_vec(), b);
    let addr = WireAddress(pool);
    if dex != Dex::UniswapV3 {
        let r = client
            .batch(url, &[simple("getReserves()"), simple("token0()"), simple("token1()")])
            .await?;
        let reserves = words(&r[0])?;
        let state = V2PoolState {
            address: addr,
            dex,
            token0: address_word(words(&r[1])?[0]),
            token1: address_word(words(&r[2])?[0]),
            reserve0: Dec(reserves[0]),
            reserve1: Dec(*reserves
                .get(1)
                .ok_or_else(|| ChainError::NotAPool("getReserves".into()))?),
            fee_bps: Some(fee_bps),
        };
        return Ok((PoolState::V2(state), block));
    }
    let calls = ["slot0()", "liquidity()", "fee()", "tickSpacing()", "token0()", "token1()"];
    let r = client.batch(url, &calls.map(simple)).await?;
    let slot0 = words(&r[0])?;
    let tick =
        signed(*slot0.get(1).ok_or_else(|| ChainError::NotAPool("slot0".into()))?, 24) as i32;
    let spacing = signed(words(&r[3])?[0], 24) as i32;
    if spacing <= 0 {
        return Err(ChainError::NotAPool("tickSpacing".into()));
    }
    let word = (tick.div_euclid(spacing)) >> 8;
    let positions: Vec<i32> = (word - WORDS_EACH_SIDE..=word + WORDS_EACH_SIDE).collect();
    let bitmap_calls: Vec<Value> = positions
        .iter()
        .map(|&w| call_signed_arg(pool, "tickBitmap(int16)", w.into(), b))
        .collect();
    let bitmaps = client.batch(url, &bitmap_calls).await?;
    let mut indices = Vec::new();
    for (w, bm) in positions.iter().zip(&bitmaps) {
        let bits = words(bm)?[0];
        for bit in 0..256usize {
            if bits.bit(bit) {
                indices.push((w * 256 + bit as i32) * spacing);
            }
        }
    }
    let tick_calls: Vec<Value> =
        indices.iter().map(|&i| call_signed_arg(pool, "ticks(int24)", i.into(), b)).collect();
    let infos = if tick_calls.is_empty() { vec![] } else { client.batch(url, &tick_calls).await? };
    let mut ticks = Vec::with_capacity(indices.len());
    for (&index, info) in indices.iter().zip(&infos) {
        let w = words(info)?;
        let net = signed(*w.get(1).ok_or_else(|| ChainError::NotAPool("ticks".into()))?, 128);
        ticks.push(WireTick { index, liquidity_net: Dec(net) });
    }
    let liquidity = words(&r[1])?[0];
    let state = V3PoolState {
        address: addr,
        dex,
        token0: address_word(words(&r[4])?[0]),
        token1: address_word(words(&r[5])?[0]),
        fee: u32::try_from(words(&r[2])?[0]).map_err(|e| ChainError::NotAPool(e.to_string()))?,
        tick_spacing: spacing,
        sqrt_price_x96: Dec(slot0[0]),
        tick,
        liquidity: Dec(u128::try_from(liquidity).map_err(|e| ChainError::NotAPool(e.to_string()))?),
        ticks,
    };
    Ok((PoolState::V3(state), block))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_and_words() {
        assert_eq!(selector("getReserves()"), [0x09, 0x02, 0xf1, 0xac]);
        assert_eq!(selector("slot0()"), [0x38, 0x50, 0xc7, 0xbd]);
        assert_eq!(signed(U256::MAX, 24), -1);
        assert_eq!(signed(U256::from(5), 24), 5);
        let v = json!(format!("0x{}", "0".repeat(63) + "7"));
        assert_eq!(words(&v).unwrap(), vec![U256::from(7)]);
    }

    #[tokio::test]
    async fn unreachable_chain() {
        let client = RpcClient::new(Duration::from_millis(500));
        let err = read_pool(&client, "http://127.0.0.1:9", Address::ZERO, Dex::UniswapV2, 30).await;
        assert!(matches!(err, Err(ChainError::Unreachable(_))));
        let url = "http://127.0.0.1:9/v3/secret-api-key";
        let err = read_pool(&client, url, Address::ZERO, Dex::UniswapV2, 30).await.unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains("secret-api-key") && !msg.contains("127.0.0.1"), "{msg}");
        assert!(msg.starts_with("chain unreachable: error sending request"), "{msg}");
    }
}
