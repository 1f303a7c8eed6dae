//! The API in process (tower `oneshot`) and once over a real socket.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use proptest::prelude::*;
use serde_json::{json, Value};
use titan_engine::{app, AppState, Config};
use tower::ServiceExt;

mod common;
use common::{config, v2_state, v3_state, POOL};

async fn send(method: &str, path: &str, body: Option<String>) -> (StatusCode, Value) {
    let router = app(AppState::new(config()));
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(body.map(Body::from).unwrap_or_else(Body::empty))
        .unwrap();
    let resp = router.oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn post(path: &str, body: Value) -> (StatusCode, Value) {
    send("POST", path, Some(body.to_string())).await
}

fn pool_body(state: Value, extra: Value) -> Value {
    let mut b =
        json!({"chain_id": 31337, "pool_address": POOL, "dex": "uniswap_v2", "state": state});
    b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    b
}

#[tokio::test]
async fn health_ready_metrics() {
    let (status, health) = send("GET", "/health", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health, json!({"status": "ok", "service": "engine"})); // titan_common.models.Health
    let (_, ready) = send("GET", "/ready", None).await;
    assert_eq!(ready["ready"], true, "{ready}"); // the math needs no chain
    assert_eq!(ready["checks"]["math"], "ok");
    let chain = ready["checks"]["chain:31337"].as_str().unwrap();
    assert!(chain.starts_with("unreachable: ") && !chain.contains("127.0.0.1"), "{chain}");
    assert_eq!(send("GET", "/api/metrics", None).await.0, StatusCode::OK);
    let (status, body) = send("GET", "/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_request_without_an_id_gets_a_fresh_uuid() {
    let router = app(AppState::new(config()));
    let mut ids = std::collections::HashSet::new();
    for _ in 0..3 {
        let req = Request::builder().uri("/health").body(Body::empty()).unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
        // a v4 UUID: 36 characters, version nibble 4
        assert_eq!((id.len(), &id[14..15]), (36, "4"), "{id}");
        ids.insert(id);
    }
    assert_eq!(ids.len(), 3, "{ids:?}");
}

/// A JSON-RPC endpoint that answers every batch with chain id 31337, counting the calls.
async fn fake_chain() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let router = axum::Router::new().route(
        "/{*key}",
        axum::routing::post(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { axum::Json(json!([{"jsonrpc": "2.0", "id": 0, "result": "0x7a69"}])) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}/v3/secret-api-key"), calls)
}

#[tokio::test]
async fn ready_probes_the_chain_and_caches_the_answer() {
    let (url, calls) = fake_chain().await;
    let config = Config { chain_rpc_urls: [(31337, url.clone()), (1, url)].into(), ..config() };
    let router = app(AppState::new(config));
    for _ in 0..3 {
        let req = Request::get("/ready").body(Body::empty()).unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["ready"], true);
        assert_eq!(body["checks"]["chain:31337"], "ok", "{body}");
        let wrong = body["checks"]["chain:1"].as_str().unwrap();
        assert!(wrong.starts_with("wrong chain") && !wrong.contains("secret"), "{wrong}");
    }
    // one probe per chain for the three requests
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn method_not_allowed_has_the_error_body() {
    for (method, path) in [("GET", "/api/pool"), ("POST", "/health"), ("DELETE", "/api/quote")] {
        let req = Request::builder().method(method).uri(path).body(Body::empty()).unwrap();
        let resp = app(AppState::new(config())).oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert!(resp.headers().get("allow").is_some(), "{method} {path}: no Allow header");
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"]["code"], "method_not_allowed", "{method} {path}");
        assert_eq!(body["error"]["details"]["method"], method);
    }
}

#[tokio::test]
async fn v2_quote_and_checksummed_address() {
    let (status, body) =
        post("/api/pool", pool_body(v2_state("1000000", "2000000"), json!({"amount_in": "1000"})))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["quote"]["amount_out"], "1992");
    assert_eq!(body["pool"]["address"], "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f");
    let (_, body) =
        post("/api/pool", pool_body(v2_state("1000000", "2000000"), json!({"amount_out": "1992"})))
            .await;
    assert_eq!(body["quote"]["amount_in"], "1000");
}

#[tokio::test]
async fn v3_quote_with_limit_partial_fill() {
    let limit = "79030349367926598376800521322"; // tick -50
    let (status, body) = post(
        "/api/pool",
        pool_body(
            v3_state(),
            json!({"amount_in": "1000000000000000000", "sqrt_price_limit_x96": limit}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["quote"]["sqrt_price_x96_after"], limit);
    assert!(body["quote"]["tick_after"].is_i64());
    assert!(body["quote"]["amount_in"].as_str().unwrap().len() < 19);
}

#[tokio::test]
async fn error_cases() {
    let cases = [
        (pool_body(v2_state("1000", "1000"), json!({"amount_in": "0"})), 422, "insufficient_input_amount"),
        (pool_body(v2_state("1000", "1000"), json!({"amount_out": "1000"})), 422, "insufficient_liquidity"),
        (pool_body(v2_state("5192296858534827628530496329220096", "1"), json!({"amount_in": "1"})), 422, "reserve_overflow"),
        (pool_body(v2_state("-1", "1"), json!({})), 422, "validation_failed"),
        (pool_body(v2_state("1.5", "1"), json!({})), 422, "validation_failed"),
        (pool_body(v2_state("0x10", "1"), json!({})), 422, "validation_failed"),
        (pool_body(v2_state("115792089237316195423570985008687907853269984665640564039457584007913129639936", "1"), json!({})), 422, "validation_failed"),
        (pool_body(v3_state(), json!({"amount_in": "0"})), 422, "zero_amount"),
        (pool_body(v3_state(), json!({"amount_in": "10", "sqrt_price_limit_x96": "79228162514264337593543950337"})), 422, "invalid_price_limit"),
        (pool_body(v3_state(), json!({"amount_in": "1000000000000000000000000"})), 422, "insufficient_tick_data"),
        (json!({"chain_id": 31337, "pool_address": "0x12", "dex": "uniswap_v2"}), 422, "validation_failed"),
        (json!({"chain_id": 31337, "pool_address": POOL, "dex": "pancake"}), 422, "validation_failed"),
        (json!({"chain_id": 31337, "pool_address": POOL, "dex": "uniswap_v2"}), 502, "upstream_unavailable"),
        (json!({"chain_id": 5, "pool_address": POOL, "dex": "uniswap_v2"}), 422, "unknown_chain"),
    ];
    for (body, status, code) in cases {
        let (got, answer) = post("/api/pool", body.clone()).await;
        assert_eq!(
            (got.as_u16(), answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    let mut unsorted = v3_state();
    unsorted["ticks"] =
        json!([{"index": 600, "liquidity_net": "1"}, {"index": -600, "liquidity_net": "1"}]);
    let (got, answer) = post("/api/pool", pool_body(unsorted, json!({}))).await;
    assert_eq!(got, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"]["details"]["field"], "state.ticks[1]");
    let mut kind = v3_state();
    kind["kind"] = json!("v4");
    assert_eq!(
        post("/api/pool", pool_body(kind, json!({}))).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (got, answer) = send("POST", "/api/pool", Some("{not json".into())).await;
    assert_eq!(
        (got, answer["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    let big = format!("{{\"x\": \"{}\"}}", "a".repeat(Config::default().max_body_bytes + 1));
    assert_eq!(send("POST", "/api/pool", Some(big)).await.0, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn routes_batch_one_bad_cycle_does_not_fail_it() {
    let good = json!({"id": "a", "hops": [
        {"pool": v2_state("1000000", "2000000"), "zero_for_one": true},
        {"pool": v2_state("1900000", "1000000"), "zero_for_one": false}]});
    let bad = json!({"id": "b", "hops": [{"pool": v2_state("0", "1"), "zero_for_one": true}], "amount_in": "5"});
    let (status, body) = post("/api/routes/evaluate", json!({"cycles": [good, bad]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["id"], "a");
    assert!(body["results"][0]["gross_profit"].as_str().unwrap().parse::<i64>().unwrap() > 0);
    assert_eq!(body["results"][1]["error"]["code"], "insufficient_liquidity");
    // a cycle that does not even parse is its own result too; the others are still sized
    let mut malformed_pool = v2_state("1000", "1000");
    malformed_pool["reserve0"] = json!("-5");
    let malformed = json!({"id": "m", "hops": [{"pool": malformed_pool, "zero_for_one": true}]});
    let no_hops = json!({"id": "n", "amount_in": "1"});
    let (status, body) =
        post("/api/routes/evaluate", json!({"cycles": [good, malformed, no_hops]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["results"][0]["gross_profit"].is_string(), "{body}");
    assert_eq!(body["results"][1]["id"], "m");
    assert_eq!(body["results"][1]["error"]["code"], "validation_failed");
    let message = body["results"][1]["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("hops[0].pool"), "{message}");
    assert_eq!(body["results"][2]["id"], "n");
    assert_eq!(body["results"][2]["error"]["code"], "validation_failed");
    // a malformed overall body still fails as a whole
    for (bad_body, status, code) in [
        (json!({"cycles": "x"}), 422, "validation_failed"),
        (json!({"cycles": [], "extra": 1}), 422, "validation_failed"),
        (json!({}), 422, "validation_failed"),
    ] {
        let (got, answer) = post("/api/routes/evaluate", bad_body.clone()).await;
        assert_eq!(
            (got.as_u16(), answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{bad_body}"
        );
    }
    let (got, _) = send("POST", "/api/routes/evaluate", Some("{\"cycles\": [".into())).await;
    assert_eq!(got, StatusCode::BAD_REQUEST);
    let too_many = json!({"cycles": [good, good, good, good]});
    let (status, body) = post("/api/routes/evaluate", too_many).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("batch_too_large"))
    );
    let (status, body) =
        post("/api/quote", json!({"hops": good["hops"], "amount_in": "1000"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["hops"][0]["amount_out"], "1992");
}

/// Log lines written while the test's (current-thread) runtime runs.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let me = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || me.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn upstream_error_request_id_one_log_line_and_no_rpc_url() {
    let logs = Captured::default();
    let _guard = logs.install();
    let url = "http://127.0.0.1:9/v3/secret-api-key";
    let config = Config { chain_rpc_urls: [(31337, url.to_string())].into(), ..config() };
    let req = Request::post("/api/pool")
        .header("content-type", "application/json")
        .header("x-request-id", "req-5xx-1")
        .body(Body::from(
            json!({"chain_id": 31337, "pool_address": POOL, "dex": "uniswap_v2"}).to_string(),
        ))
        .unwrap();
    let resp = app(AppState::new(config)).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    let body =
        String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let logs = logs.text();
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["error"]["code"], "upstream_unavailable", "{body}");
    // 5xx: a generic message, the request id in details, the cause logged once
    assert_eq!(answer["error"]["details"]["request_id"], "req-5xx-1", "{body}");
    assert!(!body.contains("error sending request"), "{body}");
    let errors: Vec<&str> = logs.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "{logs}");
    assert!(errors[0].contains("engine.request.failed") && errors[0].contains("req-5xx-1"));
    assert!(errors[0].contains("error sending request"), "the cause is logged: {logs}");
    // the whole URL nowhere; the host only in the HTTP client's own debug lines
    assert!(!body.contains("secret-api-key") && !body.contains("127.0.0.1"), "{body}");
    assert!(!logs.contains("secret-api-key"), "{logs}");
    let ours: Vec<&str> = logs.lines().filter(|l| !l.contains("hyper_util")).collect();
    assert!(ours.iter().all(|l| !l.contains("127.0.0.1")), "{logs}");
}

#[test]
fn openapi_matches_committed_file() {
    let generated = titan_engine::api::openapi::document();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(committed == generated, "openapi.json drifted: rerun with UPDATE_OPENAPI=1");
}

#[tokio::test]
async fn real_socket_serves_and_shuts_down() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(titan_engine::run(listener, config(), async {
        let _ = rx.await;
    }));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(
            b"GET /health HTTP/1.1\r\nhost: x\r\nx-request-id: abc\r\nconnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("x-request-id: abc"), "{answer}");
    tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[-0-9a-z_x.]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("kind".to_string()),
                    Just("hops".to_string()),
                    Just("state".to_string()),
                    "[a-z_]{1,8}"
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn arbitrary_bodies_never_5xx(body in arb_json(), path in prop_oneof![Just("/api/pool"), Just("/api/quote"), Just("/api/routes/evaluate")]) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (status, _) = rt.block_on(post(path, body));
        prop_assert!(!status.is_server_error());
    }
}
