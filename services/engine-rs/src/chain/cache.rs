//! A freshness cache of pool states read from chains.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use alloy_primitives::Address;

use crate::api::types::PoolState;

/// Hits and misses so far.
#[derive(Debug, Default)]
pub struct CacheStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

type Entry = (Instant, PoolState, u64);

/// States by (chain, pool), fresh for `ttl`.
#[derive(Debug)]
pub struct StateCache {
    ttl: Duration,
    entries: Mutex<HashMap<(u64, Address), Entry>>,
    pub stats: CacheStats,
}

impl StateCache {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()), stats: CacheStats::default() }
    }

    /// A fresh state and its block, counting the hit or miss.
    pub fn get(&self, chain_id: u64, pool: Address) -> Option<(PoolState, u64)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let found = entries
            .get(&(chain_id, pool))
            .filter(|(at, _, _)| at.elapsed() < self.ttl)
            .map(|(_, s, b)| (s.clone(), *b));
        let counter = if found.is_some() { &self.stats.hits } else { &self.stats.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub fn put(&self, chain_id: u64, pool: Address, state: PoolState, block: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (at, _, _)| at.elapsed() < self.ttl);
        entries.insert((chain_id, pool), (Instant::now(), state, block));
    }
}
