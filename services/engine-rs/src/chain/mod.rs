//! Live pool state from a chain: JSON-RPC `eth_call`, kept for `CACHE_DURATION_SECONDS`.

mod cache;
mod rpc;

pub use cache::{CacheStats, StateCache};
pub use rpc::{read_pool, redact, ChainError, RpcClient};
