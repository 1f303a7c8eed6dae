//! Request counts and latencies by route, for `/metrics` (Prometheus text) and `/api/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::chain::CacheStats;

/// Upper bounds of the latency buckets in microseconds: 1, 2, 4, ... ~67 s.
const BUCKETS: usize = 27;

#[derive(Debug, Default, Clone)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS],
    count: u64,
    sum_us: u128,
}

/// Counters shared by every request.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    routes: Mutex<BTreeMap<String, RouteStats>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self { started: Instant::now(), routes: Mutex::new(BTreeMap::new()) }
    }
}

fn bucket_bound_us(i: usize) -> u64 {
    1u64 << i
}

impl Metrics {
    pub fn record(&self, route: &str, status: u16, elapsed: Duration) {
        let us = elapsed.as_micros().max(1);
        let i = (128 - (us - 1).leading_zeros() as usize).min(BUCKETS - 1);
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        // the route's name is copied once, when it is first seen
        if !routes.contains_key(route) {
            routes.insert(route.to_string(), RouteStats::default());
        }
        let stats = routes.get_mut(route).expect("inserted above");
        *stats.by_status.entry(status).or_default() += 1;
        stats.buckets[i] += 1;
        stats.count += 1;
        stats.sum_us += us;
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    fn quantile(stats: &RouteStats, q: f64) -> f64 {
        let target = (stats.count as f64 * q).ceil() as u64;
        let mut seen = 0;
        for (i, n) in stats.buckets.iter().enumerate() {
            seen += n;
            if seen >= target.max(1) {
                return bucket_bound_us(i) as f64 / 1e6;
            }
        }
        bucket_bound_us(BUCKETS - 1) as f64 / 1e6
    }

    /// The JSON view of `/api/metrics`.
    pub fn to_json(&self, cache: &CacheStats) -> Value {
        use std::sync::atomic::Ordering::Relaxed;
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let by_route: serde_json::Map<String, Value> = routes
            .iter()
            .map(|(route, s)| {
                let statuses: BTreeMap<String, u64> =
                    s.by_status.iter().map(|(k, v)| (k.to_string(), *v)).collect();
                let latency = json!({
                    "p50_seconds": Self::quantile(s, 0.5),
                    "p90_seconds": Self::quantile(s, 0.9),
                    "p99_seconds": Self::quantile(s, 0.99),
                    "mean_seconds": s.sum_us as f64 / s.count.max(1) as f64 / 1e6,
                });
                (
                    route.clone(),
                    json!({"requests": s.count, "by_status": statuses, "latency": latency}),
                )
            })
            .collect();
        json!({
            "uptime_seconds": self.uptime().as_secs_f64(),
            "routes": by_route,
            "cache": {"hits": cache.hits.load(Relaxed), "misses": cache.misses.load(Relaxed)},
        })
    }

    /// Prometheus text exposition.
    pub fn to_prometheus(&self, cache: &CacheStats) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str("# TYPE engine_requests_total counter\n");
        for (route, s) in routes.iter() {
            for (status, n) in &s.by_status {
                let _ = writeln!(
                    out,
                    "engine_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# TYPE engine_request_duration_seconds histogram\n");
        for (route, s) in routes.iter() {
            let mut cumulative = 0;
            for (i, n) in s.buckets.iter().enumerate() {
                cumulative += n;
                let le = bucket_bound_us(i) as f64 / 1e6;
                let _ = writeln!(out, "engine_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}");
            }
            let _ = writeln!(
                out,
                "engine_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "engine_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                s.sum_us as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "engine_request_duration_seconds_count{{route=\"{route}\"}} {}",
                s.count
            );
        }
        let _ = writeln!(
            out,
            "# TYPE engine_cache_hits_total counter\nengine_cache_hits_total {}",
            cache.hits.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# TYPE engine_cache_misses_total counter\nengine_cache_misses_total {}",
            cache.misses.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# TYPE engine_uptime_seconds gauge\nengine_uptime_seconds {}",
            self.uptime().as_secs_f64()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_renders() {
        let m = Metrics::default();
        m.record("/health", 200, Duration::from_micros(3));
        m.record("/health", 404, Duration::from_micros(1000));
        let text = m.to_prometheus(&CacheStats::default());
        assert!(text.contains("engine_requests_total{route=\"/health\",status=\"200\"} 1"));
        let j = m.to_json(&CacheStats::default());
        assert_eq!(j["routes"]["/health"]["requests"], 2);
        assert_eq!(j["routes"]["/health"]["latency"]["p50_seconds"], 4e-6);
    }
}
