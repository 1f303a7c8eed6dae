//! Who and how many get in: the API key, the in-flight limit (503 past it), the batch permits
//! (queued, bodies unread) and the body size limit (413).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use titan_engine::{app, AppState, Config};
use tower::ServiceExt;

mod common;
use common::{config, v2_state, POOL};

#[tokio::test]
async fn api_key_guards_everything_but_health() {
    let config =
        Config { api_key: Some(titan_engine::config::Secret("zq-key".into())), ..config() };
    let router = app(AppState::new(config));
    let call = |path: &str, key: Option<&str>| {
        let mut req = Request::get(path);
        if let Some(k) = key {
            req = req.header("x-api-key", k);
        }
        router.clone().oneshot(req.body(Body::empty()).unwrap())
    };
    assert_eq!(call("/health", None).await.unwrap().status(), StatusCode::OK);
    for key in [None, Some("zq-ke"), Some("zq-keyy"), Some("")] {
        let resp = call("/api/metrics", key).await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    assert_eq!(call("/api/metrics", Some("zq-key")).await.unwrap().status(), StatusCode::OK);
    let metrics = call("/metrics", Some("zq-key")).await.unwrap();
    let text = metrics.into_body().collect().await.unwrap().to_bytes();
    assert!(!String::from_utf8_lossy(&text).contains("zq-key"));
}

/// A JSON-RPC endpoint that answers after `delay`: requests through it stay in flight.
async fn slow_chain(delay: std::time::Duration) -> String {
    let router = axum::Router::new().route(
        "/",
        axum::routing::post(move || async move {
            tokio::time::sleep(delay).await;
            axum::Json(json!([{"jsonrpc": "2.0", "id": 0, "result": "0x1"}]))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/")
}

#[tokio::test]
async fn past_the_in_flight_limit_requests_are_shed_with_retry_after() {
    let url = slow_chain(std::time::Duration::from_millis(500)).await;
    let config = Config {
        chain_rpc_urls: [(31337, url)].into(),
        cache_duration: std::time::Duration::ZERO,
        rpc_timeout: std::time::Duration::from_secs(5),
        max_in_flight: 2,
        ..config()
    };
    let router = app(AppState::new(config));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let body = json!({"chain_id": 31337, "pool_address": POOL, "dex": "uniswap_v2"});
        let req = Request::post("/api/pool")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        set.spawn(router.clone().oneshot(req));
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    // probes are not shed
    let health = router.clone().oneshot(Request::get("/health").body(Body::empty()).unwrap());
    assert_eq!(health.await.unwrap().status(), StatusCode::OK);
    let (mut shed, mut through) = (0, 0);
    while let Some(resp) = set.join_next().await {
        let resp = resp.unwrap().unwrap();
        if resp.status() != StatusCode::SERVICE_UNAVAILABLE {
            through += 1; // what the (odd) chain's answer gives; not shed
            continue;
        }
        shed += 1;
        assert_eq!(resp.headers()["retry-after"], "1");
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"]["code"], "overloaded", "{body}");
        assert_eq!(body["error"]["details"]["max_in_flight"], 2);
    }
    assert_eq!((through, shed), (2, 6));
}

/// Batches past `max_batches_in_flight` wait for a permit with their bodies unread (a burst of
/// big batches holds that many bodies at most), and every one is answered, none shed.
#[tokio::test]
async fn batches_past_their_limit_wait_with_their_bodies_unread() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let router = app(AppState::new(Config { max_batches_in_flight: 2, ..config() }));
    let read = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Semaphore::new(0)); // holds every body back once read
    let cycle =
        json!({"id": "c", "hops": [{"pool": v2_state("1000", "2000"), "zero_for_one": true}]});
    let body = json!({"cycles": [cycle]}).to_string();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (read, gate, body) = (Arc::clone(&read), Arc::clone(&gate), body.clone());
        let stream = futures_util::stream::once(async move {
            read.fetch_add(1, Ordering::SeqCst);
            gate.acquire().await.unwrap().forget();
            Ok::<_, std::convert::Infallible>(body)
        });
        let req = Request::post("/api/routes/evaluate")
            .header("content-type", "application/json")
            .body(Body::from_stream(stream))
            .unwrap();
        set.spawn(router.clone().oneshot(req));
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(read.load(Ordering::SeqCst), 2, "only the batches with a permit read a body");
    gate.add_permits(6);
    while let Some(resp) = set.join_next().await {
        assert_eq!(resp.unwrap().unwrap().status(), StatusCode::OK);
    }
    assert_eq!(read.load(Ordering::SeqCst), 6);
}

#[tokio::test]
async fn a_body_past_the_configured_limit_is_413() {
    let router = app(AppState::new(Config { max_body_bytes: 1024, ..config() }));
    let cycle = json!({"hops": [{"pool": v2_state("1000", "1000"), "zero_for_one": true}]});
    let small = json!({"cycles": [cycle]}).to_string();
    let big = json!({"cycles": vec![cycle; 8]}).to_string();
    assert!(small.len() <= 1024 && big.len() > 1024, "{} {}", small.len(), big.len());
    for (body, expected) in [(small, StatusCode::OK), (big, StatusCode::PAYLOAD_TOO_LARGE)] {
        let req = Request::post("/api/routes/evaluate")
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), expected);
        if expected == StatusCode::PAYLOAD_TOO_LARGE {
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            let body: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(body["error"]["code"], "payload_too_large", "{body}");
        }
    }
}
