//! The sizing against every integer input on small pools and a dense exact scan on large ones.

use super::*;
use crate::cycle::optimal;
use crate::math::v3::tick_math::get_sqrt_ratio_at_tick;
use crate::math::v3::{Tick, V3State};
use proptest::prelude::*;

/// A V3 pool at `tick` with nested positions `(half width, liquidity)` around it.
fn v3(tick: i32, spacing: i32, fee: u32, positions: &[(i32, u128)], zero_for_one: bool) -> Hop {
    let mut nets = std::collections::BTreeMap::<i32, i128>::new();
    let base = tick.div_euclid(spacing) * spacing;
    for &(w, l) in positions {
        *nets.entry(base - w * spacing).or_default() += l as i128;
        *nets.entry(base + (w + 1) * spacing).or_default() -= l as i128;
    }
    let ticks = nets.into_iter().map(|(index, liquidity_net)| Tick { index, liquidity_net });
    let state = V3State {
        sqrt_price_x96: get_sqrt_ratio_at_tick(tick).unwrap() + U256::from(12_345),
        tick,
        liquidity: positions.iter().map(|p| p.1).sum(),
        fee,
        tick_spacing: spacing,
        ticks: ticks.collect(),
    };
    Hop { pool: Pool::V3(state), zero_for_one }
}

fn v2(r0: u128, r1: u128, zero_for_one: bool) -> Hop {
    Hop {
        pool: Pool::V2 { reserve0: U256::from(r0), reserve1: U256::from(r1), fee_bps: 30 },
        zero_for_one,
    }
}

/// The rounding a path's profit carries: one smallest unit of each hop's output, valued in
/// the input token at the path's prices, and 2 wei of V3 rounding per hop.
fn rounding(hops: &[Hop]) -> i128 {
    let mut rate = 1.0;
    hops.iter()
        .map(|hop| {
            let (a, b, gamma) = match &hop.pool {
                Pool::V2 { reserve0, reserve1, fee_bps } => {
                    v2_reserves(*reserve0, *reserve1, *fee_bps, hop.zero_for_one)
                }
                Pool::V3(s) => v3_reserves(s.sqrt_price_x96, s.liquidity, s.fee, hop.zero_for_one),
            }
            .unwrap();
            rate *= gamma * b / a;
            (1.0 / rate).ceil() as i128 + 2
        })
        .sum()
}

/// The path's profit by the plain swap functions, not the sizing's own tables.
fn plain_profit(hops: &[Hop], x: u128) -> Option<i128> {
    let out = hops.iter().try_fold(U256::from(x), |a, h| h.amount_out(a)).ok()?;
    Some(out.to::<u128>() as i128 - x as i128)
}

/// V3 from token A to token B, then a V2 pair of 500,000 A back that pays `skew` per 10,000
/// more A than the V3 pool's price.
fn small_cycle(
    tick: i32,
    spacing: i32,
    positions: &[(i32, u128)],
    skew: u32,
    zero_for_one: bool,
) -> [Hop; 2] {
    let pool = v3(tick, spacing, 3000, positions, zero_for_one);
    let Pool::V3(s) = &pool.pool else { unreachable!() };
    let price = (to_f64(s.sqrt_price_x96) / 2f64.powi(96)).powi(2);
    let rate = if zero_for_one { price } else { 1.0 / price };
    let depth = 500_000u128;
    let other = (depth as f64 * rate / (1.0 + f64::from(skew) / 1e4)).max(1.0) as u128;
    [pool, v2(depth, other, false)]
}

/// CI's case (kept in proptest-regressions too): a V3 pool at a price of ~0.0094 and a V2
/// pair back, so one unit of the middle token is worth ~106 of the input and profit is a
/// staircase. The search used to stop on a stair's dear end, see a loss and give up.
#[test]
fn profit_on_a_stairs_cheap_end_is_found() {
    let positions = [
        (3, 147_196),
        (3, 1_706_922),
        (3, 1_622_633),
        (3, 2_999_860),
        (9, 1_444_461),
        (24, 533_503),
        (9, 58_297),
        (14, 2_996_422),
    ];
    let hops = small_cycle(-46_617, 1, &positions, 395, true);
    let best = (1..=200_000).filter_map(|x| plain_profit(&hops, x)).max().unwrap();
    let found = optimal(&hops).unwrap().expect("a profitable input");
    let found = i128::try_from(found.gross_profit()).unwrap();
    assert!(best > 0 && found <= best && found >= best - rounding(&hops), "{found} of {best}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Small pools, every integer input tried: the search's profit is the best one but for
    /// rounding. Prices far from 1 make the middle token's units coarse (a staircase).
    #[test]
    fn small_pools_equal_exhaustive_search(
        tick in -80_000i32..80_000,
        spacing in prop_oneof![Just(1), Just(10), Just(60)],
        positions in prop::collection::vec((0i32..30, 10_000u128..3_000_000), 1..12),
        skew in 1u32..400,
        zero_for_one in any::<bool>(),
    ) {
        let hops = small_cycle(tick, spacing, &positions, skew, zero_for_one);
        let found = optimal(&hops).unwrap().map_or(0, |p| i128::try_from(p.gross_profit()).unwrap());
        let best = (1..=200_000).filter_map(|x| plain_profit(&hops, x)).max().unwrap_or(0);
        prop_assert!(found <= best.max(0));
        prop_assert!(found >= best - rounding(&hops), "{} < {} - {}", found, best, rounding(&hops));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    /// Pools of real size, optimum across many ticks: no input of a dense scan around the
    /// answer, nor of a coarse one over four decades, beats it by more than the rounding.
    #[test]
    fn large_pools_beat_dense_scan(
        tick in -250_000i32..250_000,
        positions in prop::collection::vec((0i32..200, 1u128 << 60..1u128 << 75), 20..60),
        skew in 80u32..2000,
        zero_for_one in any::<bool>(),
        third in any::<bool>(),
    ) {
        let pool = v3(tick, 10, 500, &positions, zero_for_one);
        let Pool::V3(s) = &pool.pool else { unreachable!() };
        let price = (to_f64(s.sqrt_price_x96) / 2f64.powi(96)).powi(2);
        let rate = if zero_for_one { price } else { 1.0 / price };
        let depth = 1e24;
        let other = depth * rate / (1.0 + f64::from(skew) / 1e4);
        prop_assume!(other > 1e3 && other < 1e33);
        // back to A directly, or through a third token C at par with A
        let hops: Vec<Hop> = if third {
            vec![pool, v2(depth as u128, other as u128, false), v2(1e24 as u128, 1e24 as u128, true)]
        } else {
            vec![pool, v2(depth as u128, other as u128, false)]
        };
        let found = optimal(&hops).unwrap().map(|p| (p.amount_in.to::<u128>(), i128::try_from(p.gross_profit()).unwrap()));
        let (x, p) = found.unwrap_or((1, 0));
        let dense = (-1000..=1000).map(|k| (x as f64 * (1.0 + k as f64 * 1e-6)) as u128);
        let coarse = (0..=400).map(|k| (x as f64 * 10f64.powf(k as f64 / 100.0 - 2.0)) as u128);
        let best = dense.chain(coarse).filter_map(|c| plain_profit(&hops, c)).max().unwrap_or(0);
        prop_assert!(p >= best - rounding(&hops), "{} < {} - {}", p, best, rounding(&hops));
    }
}
