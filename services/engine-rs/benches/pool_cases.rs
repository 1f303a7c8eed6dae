//! The pool-math cases of `make bench` (`bench/pool_math.py`), on the same devnet pool states
//! that the Python reference, the Uniswap SDKs and the contracts are timed on.
//! Reads the cases file named by `TITAN_BENCH_CASES`; without it there is nothing to run.

use std::hint::black_box;

use alloy_primitives::{I256, U256};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::Value;
use titan_engine::math::{
    v2,
    v3::swap::{swap, Tick, V3State},
};

fn u256(value: &Value) -> U256 {
    value.as_str().and_then(|s| U256::from_str_radix(s, 10).ok()).expect("decimal string")
}

fn v3_state(state: &Value) -> V3State {
    V3State {
        sqrt_price_x96: u256(&state["sqrt_price_x96"]),
        tick: state["tick"].as_i64().expect("tick") as i32,
        liquidity: u256(&state["liquidity"]).to::<u128>(),
        fee: state["fee"].as_u64().expect("fee") as u32,
        tick_spacing: state["tick_spacing"].as_i64().expect("spacing") as i32,
        ticks: state["ticks"]
            .as_array()
            .expect("ticks")
            .iter()
            .map(|t| Tick {
                index: t["index"].as_i64().expect("index") as i32,
                liquidity_net: t["liquidity_net"].as_str().expect("net").parse().expect("i128"),
            })
            .collect(),
    }
}

fn pool_cases(c: &mut Criterion) {
    let Ok(path) = std::env::var("TITAN_BENCH_CASES") else {
        eprintln!("TITAN_BENCH_CASES not set: run `make bench`");
        return;
    };
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("cases file"))
        .expect("cases JSON");
    let mut group = c.benchmark_group("pool_cases");
    for case in file["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let state = &case["state"];
        let amount = u256(&case["amount_in"]);
        let zero_for_one = case["zero_for_one"].as_bool().expect("direction");
        if state["kind"] == "v2" {
            let (r0, r1) = (u256(&state["reserve0"]), u256(&state["reserve1"]));
            let (reserve_in, reserve_out) = if zero_for_one { (r0, r1) } else { (r1, r0) };
            group.bench_function(name, |b| {
                b.iter(|| v2::get_amount_out(black_box(amount), reserve_in, reserve_out, 30))
            });
        } else {
            let pool = v3_state(state);
            let specified = I256::try_from(amount).expect("amount fits int256");
            group.bench_function(name, |b| {
                b.iter(|| swap(black_box(&pool), zero_for_one, black_box(specified), None))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, pool_cases);
criterion_main!(benches);
