//! `cargo bench --bench math_parts`: the pieces of a V3 swap, one by one, to see where a swap's
//! time goes. Shapes as in the `bench` devnet pool (WETH/USDC, price near tick -200321, spacing
//! 60, liquidity ~1.8e18, a ladder of 120 initialized ticks).

use std::hint::black_box;

use alloy_primitives::{I256, U256};
use criterion::{criterion_group, criterion_main, Criterion};
use titan_engine::math::v3::full_math::{mul_div, mul_div_rounding_up};
use titan_engine::math::v3::sqrt_price_math::{get_amount0_delta, get_amount1_delta};
use titan_engine::math::v3::swap_math::compute_swap_step;
use titan_engine::math::v3::tick_bitmap::next_initialized_tick_within_one_word;
use titan_engine::math::v3::tick_math::{get_sqrt_ratio_at_tick, get_tick_at_sqrt_ratio};
use titan_engine::math::v3::{SwapTable, Tick, V3State};

const L: u128 = 1_797_276_123_595_814_217;
const TICK: i32 = -200_321;

fn parts(c: &mut Criterion) {
    let price = get_sqrt_ratio_at_tick(TICK).unwrap() + U256::from(12_345);
    let below = get_sqrt_ratio_at_tick(-200_400).unwrap();
    let q96 = U256::from(1) << 96;
    let pips = U256::from(1_000_000);

    // mulDiv shapes met in a swap step
    let (small, fee_left) = (U256::from(10u128.pow(21)), U256::from(997_000));
    c.bench_function("mul_div_fee_u128", |b| {
        b.iter(|| mul_div(black_box(small), black_box(fee_left), black_box(pips)))
    });
    let n1 = U256::from(L) << 96;
    c.bench_function("mul_div_amount0_256_by_128", |b| {
        b.iter(|| mul_div_rounding_up(black_box(n1), black_box(price - below), black_box(price)))
    });
    c.bench_function("mul_div_amount1_by_q96", |b| {
        b.iter(|| mul_div(black_box(U256::from(L)), black_box(price - below), black_box(q96)))
    });
    let (wide, big) = (U256::MAX >> 8, U256::MAX >> 4);
    c.bench_function("mul_div_512", |b| {
        b.iter(|| mul_div_rounding_up(black_box(wide), black_box(wide), black_box(big)))
    });

    c.bench_function("get_sqrt_ratio_at_tick", |b| {
        b.iter(|| get_sqrt_ratio_at_tick(black_box(TICK)))
    });
    // near a tick's ratio one getSqrtRatioAtTick decides; between ticks the estimate alone
    c.bench_function("get_tick_at_sqrt_ratio", |b| {
        b.iter(|| get_tick_at_sqrt_ratio(black_box(price)))
    });
    let between = (price + get_sqrt_ratio_at_tick(TICK + 1).unwrap()) >> 1;
    c.bench_function("get_tick_at_sqrt_ratio_between_ticks", |b| {
        b.iter(|| get_tick_at_sqrt_ratio(black_box(between)))
    });
    c.bench_function("get_amount0_delta", |b| {
        b.iter(|| get_amount0_delta(black_box(below), black_box(price), L, true))
    });
    c.bench_function("get_amount1_delta", |b| {
        b.iter(|| get_amount1_delta(black_box(below), black_box(price), L, false))
    });

    let plenty = I256::try_from(10i128.pow(24)).unwrap();
    c.bench_function("compute_swap_step_full", |b| {
        b.iter(|| compute_swap_step(black_box(price), black_box(below), L, black_box(plenty), 3000))
    });
    let some = I256::try_from(10i128.pow(15)).unwrap();
    c.bench_function("compute_swap_step_partial", |b| {
        b.iter(|| compute_swap_step(black_box(price), black_box(below), L, black_box(some), 3000))
    });

    let mut ticks: Vec<Tick> = (1..=60)
        .flat_map(|k| {
            [
                Tick { index: -200_340 - 60 * k, liquidity_net: 1 },
                Tick { index: -200_280 + 60 * k, liquidity_net: -1 },
            ]
        })
        .collect();
    ticks.sort_by_key(|t| t.index);
    c.bench_function("next_initialized_tick_within_one_word", |b| {
        b.iter(|| {
            next_initialized_tick_within_one_word(
                black_box(&ticks),
                &mut None,
                black_box(TICK),
                60,
                true,
            )
        })
    });

    // a sizing search's swap: the whole steps from the table, then one that falls short
    let state = V3State {
        sqrt_price_x96: price,
        tick: TICK,
        liquidity: L,
        fee: 3000,
        tick_spacing: 60,
        ticks,
    };
    let mut table = SwapTable::new(&state, true).unwrap();
    let x = U256::from(10u128.pow(15));
    table.swap(U256::from(10u128.pow(21))).ok();
    c.bench_function("table_swap_partial", |b| b.iter(|| table.swap(black_box(x))));
}

criterion_group! {
    name = math_parts;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(1)).warm_up_time(std::time::Duration::from_millis(300));
    targets = parts
}
criterion_main!(math_parts);
