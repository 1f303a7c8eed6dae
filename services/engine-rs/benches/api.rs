//! `cargo bench --bench api`: a request through the router in process (tower `oneshot`: every
//! middleware layer and the handler, no socket), and the reading of a `POST /api/pool` body.
//! Not part of `make bench`, which times the server over HTTP with wrk; this shows what the
//! engine's own code costs a request, where wrk's figures are mostly the kernel's.

use std::hint::black_box;

use axum::body::Body;
use axum::http::Request;
use criterion::{criterion_group, criterion_main, Criterion};
use http_body_util::BodyExt;
use titan_engine::api::types::PoolRequest;
use titan_engine::{app, AppState, Config};
use tower::ServiceExt;

/// The body `make bench` sends to `POST /api/pool` (a V2 pair of the devnet's bench scenario).
const POOL_BODY: &str = r#"{"chain_id": 31337, "pool_address": "0xFa803697c45c71b3f0a249DB2a17D9bF2507eEEA", "dex": "uniswap_v2", "state": {"kind": "v2", "address": "0xFa803697c45c71b3f0a249DB2a17D9bF2507eEEA", "dex": "uniswap_v2", "token0": "0x5FbDB2315678afecb367f032d93F642f64180aa3", "token1": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", "reserve0": "1000000000000000000000", "reserve1": "2005743627712", "fee_bps": 30}, "amount_in": "1000000000000000", "zero_for_one": true}"#;

fn request_path(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let router = app(AppState::new(Config::default()));
    let send = |method: &str, path: &str, body: Option<&'static str>| {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(body.map(Body::from).unwrap_or_else(Body::empty))
            .unwrap();
        let router = router.clone();
        rt.block_on(async move {
            let resp = router.oneshot(req).await.unwrap();
            assert!(resp.status().is_success(), "{}", resp.status());
            resp.into_body().collect().await.unwrap().to_bytes()
        })
    };
    c.bench_function("oneshot_health", |b| b.iter(|| send("GET", "/health", None)));
    c.bench_function("oneshot_pool_v2", |b| b.iter(|| send("POST", "/api/pool", Some(POOL_BODY))));
    c.bench_function("read_pool_body", |b| {
        b.iter(|| {
            let mut de = serde_json::Deserializer::from_str(black_box(POOL_BODY));
            serde_path_to_error::deserialize::<_, PoolRequest>(&mut de).unwrap()
        })
    });
}

criterion_group!(benches, request_path);
criterion_main!(benches);
