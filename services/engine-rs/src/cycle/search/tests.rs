//! The sizing's unit tests: closed form, rounding, and a mixed path against a dense scan.

use super::*;
use crate::cycle::optimal;
use crate::math::v3::{Tick, V3State};

fn v2(r0: u128, r1: u128, zfo: bool) -> Hop {
    Hop {
        pool: Pool::V2 { reserve0: U256::from(r0), reserve1: U256::from(r1), fee_bps: 30 },
        zero_for_one: zfo,
    }
}

fn profit(hops: &[Hop], x: U256) -> Option<I256> {
    PathOut::new(hops).profit(x)
}

fn best_by_scan(hops: &[Hop], hi: u128, step: u128) -> I256 {
    (1..=hi / step).filter_map(|k| profit(hops, U256::from(k * step))).max().unwrap()
}

#[test]
fn v2_two_hop_closed_form_is_optimal() {
    let hops = [v2(1_000_000, 2_000_000, true), v2(1_900_000, 1_000_000, false)];
    let got = optimal(&hops).unwrap().unwrap();
    assert_eq!(got.gross_profit(), best_by_scan(&hops, 1_000_000, 1));
    assert_eq!(got.hops.len(), 2);
}

#[test]
fn v2_large_reserves_within_rounding() {
    let e18 = 10u128.pow(18);
    let hops = [v2(1000 * e18, 2_000_000 * e18, true), v2(1_950_000 * e18, 1000 * e18, false)];
    let got = optimal(&hops).unwrap().unwrap();
    let x = got.amount_in;
    for d in [1u64, 10, 1000, 1_000_000] {
        let d = U256::from(d);
        assert!(profit(&hops, x + d).unwrap() <= got.gross_profit());
        assert!(profit(&hops, x - d).unwrap() <= got.gross_profit());
    }
}

#[test]
fn unprofitable_is_none() {
    let hops = [v2(1_000_000, 1_000_000, true), v2(1_000_000, 1_000_000, false)];
    assert_eq!(optimal(&hops).unwrap(), None);
}

#[test]
fn mixed_search_close_to_dense_scan() {
    let l = 10u128.pow(12);
    let ticks = vec![
        Tick { index: -887_220, liquidity_net: l as i128 },
        Tick { index: 887_220, liquidity_net: -(l as i128) },
    ];
    let v3 = Hop {
        pool: Pool::V3(V3State {
            sqrt_price_x96: U256::from(1) << 96,
            tick: 0,
            liquidity: l,
            fee: 500,
            tick_spacing: 10,
            ticks,
        }),
        zero_for_one: true,
    };
    let hops = [v3, v2(1_050_000_000_000, 1_000_000_000_000, false)];
    let got = optimal(&hops).unwrap().unwrap();
    let scan = best_by_scan(&hops, 40_000_000_000, 10_000_000);
    assert!(got.gross_profit() >= scan, "{} < {}", got.gross_profit(), scan);
}
