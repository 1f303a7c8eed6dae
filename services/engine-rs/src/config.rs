//! The engine's configuration, read from the environment once in `main`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

/// Everything the engine is told by its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub bind_addr: IpAddr,
    pub cache_duration: Duration,
    pub max_batch: usize,
    /// JSON-RPC endpoint per chain id.
    pub chain_rpc_urls: HashMap<u64, String>,
    /// V2 fee in basis points per DEX name.
    pub dex_fees_bps: HashMap<String, u32>,
    pub log_json: bool,
    pub log_level: String,
    pub rpc_timeout: Duration,
    /// HTTP requests in flight past which the API answers 503 with `Retry-After`.
    pub max_in_flight: usize,
    /// `POST /api/routes/evaluate` requests worked on at once; the others wait, their bodies
    /// (a batch with ticks runs to megabytes) still unread.
    pub max_batches_in_flight: usize,
    /// Largest request body accepted; past it 413 `payload_too_large`.
    pub max_body_bytes: usize,
    /// `TITAN_API_KEY`: when set, every route but `/health` requires it in `X-API-Key`.
    pub api_key: Option<Secret>,
}

/// A value that must never reach a log: its `Debug` is a mask.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A variable that does not parse, named.
#[derive(Debug, thiserror::Error)]
#[error("invalid {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

impl Default for Config {
    fn default() -> Self {
        let dex_fees_bps = [("uniswap_v2", 30), ("sushiswap", 30), ("quickswap", 30)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        Self {
            port: 3000,
            bind_addr: IpAddr::from([127, 0, 0, 1]),
            cache_duration: Duration::from_secs(10),
            max_batch: 1000,
            chain_rpc_urls: HashMap::from([(31337, "http://127.0.0.1:8545".to_string())]),
            dex_fees_bps,
            log_json: false,
            log_level: "info".to_string(),
            rpc_timeout: Duration::from_secs(5),
            max_in_flight: 256,
            // a batch is split across the cores: more at once would only hold more bodies
            max_batches_in_flight: 2 * std::thread::available_parallelism().map_or(1, |n| n.get()),
            // a full batch of V3 cycles with their ticks runs to megabytes
            max_body_bytes: 8 << 20,
            api_key: None,
        }
    }
}

fn parse<T: std::str::FromStr>(name: &'static str, value: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value.trim().parse().map_err(|e: T::Err| ConfigError { name, reason: e.to_string() })
}

/// A count that must be 1 or more.
fn positive(name: &'static str, value: &str) -> Result<usize, ConfigError> {
    match parse(name, value)? {
        0 => Err(ConfigError { name, reason: "must be 1 or more".into() }),
        n => Ok(n),
    }
}

fn pairs(name: &'static str, value: &str) -> Result<Vec<(String, String)>, ConfigError> {
    value
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or(ConfigError { name, reason: format!("expected key=value, got {p:?}") })
        })
        .collect()
}

impl Config {
    /// Reads the configuration from a lookup (the process environment in `main`).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut c = Self::default();
        if let Some(v) = get("RUST_SERVER_PORT") {
            c.port = parse("RUST_SERVER_PORT", &v)?;
        }
        if let Some(v) = get("ENGINE_BIND_ADDR") {
            c.bind_addr = parse("ENGINE_BIND_ADDR", &v)?;
        }
        if let Some(v) = get("CACHE_DURATION_SECONDS") {
            c.cache_duration = Duration::from_secs_f64(parse("CACHE_DURATION_SECONDS", &v)?);
        }
        if let Some(v) = get("ENGINE_MAX_BATCH") {
            c.max_batch = parse("ENGINE_MAX_BATCH", &v)?;
        }
        if let Some(v) = get("ENGINE_MAX_IN_FLIGHT") {
            c.max_in_flight = positive("ENGINE_MAX_IN_FLIGHT", &v)?;
        }
        // empty (as `.env.example` lists it): the default, which depends on the cores
        if let Some(v) = get("ENGINE_MAX_BATCHES_IN_FLIGHT").filter(|v| !v.trim().is_empty()) {
            c.max_batches_in_flight = positive("ENGINE_MAX_BATCHES_IN_FLIGHT", &v)?;
        }
        if let Some(v) = get("ENGINE_MAX_BODY_BYTES") {
            c.max_body_bytes = positive("ENGINE_MAX_BODY_BYTES", &v)?;
        }
        if let Some(v) = get("TITAN_API_KEY") {
            c.api_key = Some(Secret(v.trim().to_string())).filter(|k| !k.0.is_empty());
        }
        if let Some(v) = get("CHAIN_RPC_URL") {
            c.chain_rpc_urls.insert(31337, v.trim().to_string());
        }
        if let Some(v) = get("ENGINE_CHAIN_RPC_URLS") {
            for (k, url) in pairs("ENGINE_CHAIN_RPC_URLS", &v)? {
                c.chain_rpc_urls.insert(parse("ENGINE_CHAIN_RPC_URLS", &k)?, url);
            }
        }
        if let Some(v) = get("ENGINE_DEX_FEES_BPS") {
            for (dex, fee) in pairs("ENGINE_DEX_FEES_BPS", &v)? {
                c.dex_fees_bps.insert(dex, parse("ENGINE_DEX_FEES_BPS", &fee)?);
            }
        }
        if let Some(v) = get("LOG_FORMAT") {
            c.log_json = v.trim().eq_ignore_ascii_case("json");
        }
        if let Some(v) = get("LOG_LEVEL") {
            c.log_level = v.trim().to_lowercase();
        }
        Ok(c)
    }

    /// The configured V2 fee of a DEX (30 bps when not configured).
    pub fn dex_fee_bps(&self, dex: &str) -> u32 {
        self.dex_fees_bps.get(dex).copied().unwrap_or(30)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let env = HashMap::from([
            ("RUST_SERVER_PORT", "4000"),
            ("ENGINE_CHAIN_RPC_URLS", "1=http://a, 137=http://b"),
            ("ENGINE_DEX_FEES_BPS", "sushiswap=25"),
            ("LOG_FORMAT", "json"),
        ]);
        let c = Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(c.port, 4000);
        assert_eq!(c.chain_rpc_urls[&137], "http://b");
        assert_eq!(c.chain_rpc_urls[&31337], "http://127.0.0.1:8545");
        assert_eq!(c.dex_fee_bps("sushiswap"), 25);
        assert!(c.log_json);
        let bad = Config::from_lookup(|k| (k == "ENGINE_MAX_BATCH").then(|| "x".into()));
        assert_eq!(bad.unwrap_err().name, "ENGINE_MAX_BATCH");
        let zero = Config::from_lookup(|k| (k == "ENGINE_MAX_IN_FLIGHT").then(|| "0".into()));
        assert_eq!(zero.unwrap_err().name, "ENGINE_MAX_IN_FLIGHT");
        let zero =
            Config::from_lookup(|k| (k == "ENGINE_MAX_BATCHES_IN_FLIGHT").then(|| "0".into()));
        assert_eq!(zero.unwrap_err().name, "ENGINE_MAX_BATCHES_IN_FLIGHT");
        let empty =
            Config::from_lookup(|k| (k == "ENGINE_MAX_BATCHES_IN_FLIGHT").then(|| "".into()));
        assert_eq!(empty.unwrap().max_batches_in_flight, c.max_batches_in_flight);
        assert!(c.max_batches_in_flight >= 2);
    }

    #[test]
    fn api_key_is_optional_and_never_debug_printed() {
        assert!(Config::from_lookup(|k| (k == "TITAN_API_KEY").then(|| " ".into()))
            .unwrap()
            .api_key
            .is_none());
        let c =
            Config::from_lookup(|k| (k == "TITAN_API_KEY").then(|| "zq-secret".into())).unwrap();
        assert_eq!(c.api_key, Some(Secret("zq-secret".into())));
        assert!(!format!("{c:?}").contains("zq-secret"));
    }
}
