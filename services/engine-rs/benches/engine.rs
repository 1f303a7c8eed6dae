//! `cargo bench --bench engine`: V2 quote, V3 exact-in crossing 0/1/10/50 ticks, sizing and a
//! batch of 100 cycles.

use std::hint::black_box;

use alloy_primitives::{I256, U256};
use criterion::{criterion_group, criterion_main, Criterion};
use titan_engine::api::routes::evaluate_cycle;
use titan_engine::api::types::CycleRequest;
use titan_engine::cycle::{optimal, Hop, Pool};
use titan_engine::math::v2::get_amount_out;
use titan_engine::math::v3::full_math::mul_div_rounding_up;
use titan_engine::math::v3::tick_math::{get_sqrt_ratio_at_tick, get_tick_at_sqrt_ratio};
use titan_engine::math::v3::{swap, Tick, V3State};
use titan_engine::Config;

const L: u128 = 1_000_000_000_000_000_000_000;

/// Initialized ticks every `spacing` with L/10 each, full-range L; price at tick 0.
fn v3_pool(spacing: i32, width: i32) -> V3State {
    let mut ticks = vec![
        Tick { index: -(887_272 / spacing) * spacing, liquidity_net: L as i128 },
        Tick { index: (887_272 / spacing) * spacing, liquidity_net: -(L as i128) },
    ];
    for k in 1..=width {
        ticks.push(Tick { index: -k * spacing, liquidity_net: (L / 10) as i128 });
        ticks.push(Tick { index: k * spacing, liquidity_net: -((L / 10) as i128) });
    }
    ticks.sort_by_key(|t| t.index);
    V3State {
        sqrt_price_x96: U256::from(1) << 96,
        tick: 0,
        liquidity: L + width as u128 * (L / 10),
        fee: 3000,
        tick_spacing: spacing,
        ticks,
    }
}

/// The exact input (token0) that takes the price just past `crossings` initialized ticks.
fn input_crossing(state: &V3State, crossings: i32) -> I256 {
    let target =
        get_sqrt_ratio_at_tick(-crossings * state.tick_spacing - state.tick_spacing / 2).unwrap();
    let limit_swap =
        swap(state, true, I256::try_from(10i128.pow(30)).unwrap(), Some(target)).unwrap();
    limit_swap.amount0
}

fn v2_hop(r0: u128, r1: u128, zfo: bool) -> Hop {
    Hop {
        pool: Pool::V2 { reserve0: U256::from(r0), reserve1: U256::from(r1), fee_bps: 30 },
        zero_for_one: zfo,
    }
}

fn benches(c: &mut Criterion) {
    let e18 = 10u128.pow(18);
    let (a, r0, r1) = (U256::from(e18), U256::from(1000 * e18), U256::from(2_000_000 * e18));
    c.bench_function("v2_get_amount_out", |b| {
        b.iter(|| get_amount_out(black_box(a), black_box(r0), black_box(r1), 30))
    });

    let (n1, n2, sb) = (U256::from(L) << 96, U256::from(1u128 << 90), U256::from(1) << 97);
    c.bench_function("full_math_mul_div_512", |b| {
        b.iter(|| mul_div_rounding_up(black_box(n1), black_box(n2), black_box(sb)))
    });
    c.bench_function("tick_math_get_sqrt_ratio_at_tick", |b| {
        b.iter(|| get_sqrt_ratio_at_tick(black_box(-12345)))
    });
    let p = get_sqrt_ratio_at_tick(-12345).unwrap() + U256::from(7);
    c.bench_function("tick_math_get_tick_at_sqrt_ratio", |b| {
        b.iter(|| get_tick_at_sqrt_ratio(black_box(p)))
    });

    let state = v3_pool(10, 60);
    for crossings in [0, 1, 10, 50] {
        let amount = if crossings == 0 {
            I256::try_from(10i128.pow(15)).unwrap()
        } else {
            input_crossing(&state, crossings)
        };
        let r = swap(&state, true, amount, None).unwrap();
        assert!(crossings == 0 || r.tick < -(crossings * 10) + 1, "crossings {crossings}");
        c.bench_function(&format!("v3_exact_in_cross_{crossings}_ticks"), |b| {
            b.iter(|| swap(black_box(&state), true, black_box(amount), None))
        });
    }

    let two_hop =
        [v2_hop(1000 * e18, 2_000_000 * e18, true), v2_hop(1_950_000 * e18, 1000 * e18, false)];
    c.bench_function("size_2hop_v2", |b| b.iter(|| optimal(black_box(&two_hop))));

    // 3-hop mixed: token0 -> token1 on V3 (price 1), token1 -> token2 on V2, token2 -> token0 on V2
    let mixed = [
        Hop { pool: Pool::V3(v3_pool(10, 60)), zero_for_one: true },
        v2_hop(1000 * e18, 1010 * e18, true),
        v2_hop(1000 * e18, 1010 * e18, true),
    ];
    assert!(optimal(&mixed).unwrap().is_some());
    c.bench_function("size_3hop_mixed", |b| b.iter(|| optimal(black_box(&mixed))));

    let config = Config::default();
    let cycle: CycleRequest = serde_json::from_value(serde_json::json!({"id": "c", "hops": [
        {"pool": {"kind": "v2", "address": "0x0000000000000000000000000000000000000001", "dex": "uniswap_v2",
          "token0": "0x0000000000000000000000000000000000000001", "token1": "0x0000000000000000000000000000000000000002",
          "reserve0": (1000 * e18).to_string(), "reserve1": (2_000_000 * e18).to_string(), "fee_bps": 30}, "zero_for_one": true},
        {"pool": {"kind": "v2", "address": "0x0000000000000000000000000000000000000003", "dex": "sushiswap",
          "token0": "0x0000000000000000000000000000000000000001", "token1": "0x0000000000000000000000000000000000000002",
          "reserve0": (1000 * e18).to_string(), "reserve1": (1_950_000 * e18).to_string(), "fee_bps": 30}, "zero_for_one": false}
    ]})).unwrap();
    let batch: Vec<CycleRequest> = vec![cycle; 100];
    c.bench_function("batch_100_v2_cycles", |b| {
        b.iter(|| batch.iter().map(|c| evaluate_cycle(c, &config)).collect::<Vec<_>>())
    });
    let mixed_batch: Vec<[Hop; 3]> = (0..100).map(|_| mixed.clone()).collect();
    c.bench_function("batch_100_mixed_3hop_cycles", |b| {
        b.iter(|| mixed_batch.iter().map(|h| optimal(h)).collect::<Vec<_>>())
    });
}

criterion_group! {
    name = engine;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = benches
}
criterion_main!(engine);
