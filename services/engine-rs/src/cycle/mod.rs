//! Paths of hops: the output for an input, and the input that maximises profit.
//!
//! Sizing:
//! - all-V2 paths: the composed output is a Möbius map `f(x) = P·x / (Q + R·x)`, so the optimum
//!   of `f(x) - x` is `x* = (√(P·Q) - Q) / R`, computed in `f64` (relative error ~1e-12 on
//!   `x*`), then refined on exact integers over `x*` and its neighbours. Because profit is flat at
//!   the optimum, the shortfall is second order: tests check it against an exhaustive integer
//!   search on small pools and a fine exact search on large ones.
//! - any path with a V3 hop: profit is concave in the input (each hop's output is concave), so
//!   the input is bracketed by doubling/halving from a depth-based guess, then narrowed by a
//!   golden-section search on integers until the bracket is within 1e-7 of the input (or 8 wei),
//!   and the final bracket is scanned at 9 points. Inputs where a hop reverts or runs past the
//!   supplied ticks count as infeasible. The result is within 1e-7 relative of the best input;
//!   the profit shortfall is below that (tested against a dense exact scan).

use alloy_primitives::{I256, U256};

use crate::math::v3::{swap, V3State};
use crate::math::{v2, MathError};

/// A pool as the math needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pool {
    V2 { reserve0: U256, reserve1: U256, fee_bps: u32 },
    V3(V3State),
}

/// One hop: a pool and a direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub pool: Pool,
    pub zero_for_one: bool,
}

impl Hop {
    /// The output of this hop for an exact input.
    pub fn amount_out(&self, amount_in: U256) -> Result<U256, MathError> {
        match &self.pool {
            Pool::V2 { reserve0, reserve1, fee_bps } => {
                let (r_in, r_out) =
                    if self.zero_for_one { (*reserve0, *reserve1) } else { (*reserve1, *reserve0) };
                v2::get_amount_out(amount_in, r_in, r_out, *fee_bps)
            }
            Pool::V3(state) => {
                let specified = I256::try_from(amount_in).map_err(|_| MathError::MathOverflow)?;
                let r = swap(state, self.zero_for_one, specified, None)?;
                let (paid, got) =
                    if self.zero_for_one { (r.amount0, r.amount1) } else { (r.amount1, r.amount0) };
                if paid != specified {
                    return Err(MathError::InsufficientLiquidity);
                }
                Ok((-got).into_raw())
            }
        }
    }
}

/// Amounts of one sized path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathAmounts {
    pub amount_in: U256,
    pub amount_out: U256,
    /// (amount_in, amount_out) per hop.
    pub hops: Vec<(U256, U256)>,
}

impl PathAmounts {
    /// amount_out - amount_in.
    pub fn gross_profit(&self) -> I256 {
        let out = I256::from_raw(self.amount_out);
        let input = I256::from_raw(self.amount_in);
        out.saturating_sub(input)
    }
}

/// The amounts along a path for an exact input.
pub fn path_amounts(hops: &[Hop], amount_in: U256) -> Result<PathAmounts, MathError> {
    let mut amounts = Vec::with_capacity(hops.len());
    let mut x = amount_in;
    for hop in hops {
        let out = hop.amount_out(x)?;
        amounts.push((x, out));
        x = out;
    }
    Ok(PathAmounts { amount_in, amount_out: x, hops: amounts })
}

fn path_out(hops: &[Hop], amount_in: U256) -> Result<U256, MathError> {
    hops.iter().try_fold(amount_in, |x, hop| hop.amount_out(x))
}

/// Profit at an input, `None` when infeasible.
fn profit(hops: &[Hop], x: U256) -> Option<I256> {
    if x.is_zero() || x > U256::from(u128::MAX) {
        return None;
    }
    let out = path_out(hops, x).ok()?;
    Some(I256::from_raw(out).saturating_sub(I256::from_raw(x)))
}

fn to_f64(x: U256) -> f64 {
    f64::from(x)
}

fn from_f64(x: f64) -> U256 {
    if !x.is_finite() || x < 1.0 {
        return U256::from(1);
    }
    U256::try_from(x.min(3.4e38)).unwrap_or(U256::from(1))
}

/// Closed-form optimum of an all-V2 path, `None` when no input is profitable at the margin.
fn v2_closed_form(hops: &[Hop]) -> Option<f64> {
    let (mut p, mut q, mut r) = (1.0f64, 1.0f64, 0.0f64);
    for hop in hops {
        let Pool::V2 { reserve0, reserve1, fee_bps } = &hop.pool else { return None };
        let (a, b) = if hop.zero_for_one { (reserve0, reserve1) } else { (reserve1, reserve0) };
        let (m, base) = v2::fee_factors(*fee_bps).ok()?;
        let (a, b, m, base) = (to_f64(*a), to_f64(*b), m as f64, base as f64);
        let (np, nq, nr) = (m * b * p, a * base * q, a * base * r + m * p);
        (p, q, r) = (np / nq, 1.0, nr / nq);
    }
    if p <= q || r <= 0.0 {
        return None;
    }
    Some(((p * q).sqrt() - q) / r)
}

/// An input of a sensible size for the first hop: a thousandth of its depth.
fn first_guess(hop: &Hop) -> U256 {
    match &hop.pool {
        Pool::V2 { reserve0, reserve1, .. } => {
            let r = if hop.zero_for_one { *reserve0 } else { *reserve1 };
            (r / U256::from(1000)).max(U256::from(1))
        }
        Pool::V3(s) => {
            let l = s.liquidity as f64;
            let price = to_f64(s.sqrt_price_x96) / 2f64.powi(96);
            let depth = if hop.zero_for_one { l / price.max(1e-30) } else { l * price };
            from_f64(depth / 1000.0)
        }
    }
}

fn better(a: Option<I256>, b: Option<I256>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a > b,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Golden-section search over integers for the best input of a concave profit.
fn search(hops: &[Hop]) -> Option<U256> {
    let one = U256::from(1);
    let two = U256::from(2);
    let mut x = first_guess(hops.first()?);
    let mut px = profit(hops, x);
    let mut guard = 0;
    while px.is_none() && x > one && guard < 128 {
        x /= two;
        px = profit(hops, x);
        guard += 1;
    }
    let (mut lo, mut hi);
    let mut p2 = profit(hops, x * two);
    if better(p2, px) {
        loop {
            let p4 = profit(hops, x * two * two);
            if guard >= 256 || !better(p4, p2) {
                break;
            }
            (x, p2) = (x * two, p4);
            guard += 1;
        }
        (lo, hi) = (x, x * two * two);
    } else {
        loop {
            let half = profit(hops, x / two);
            if x <= one || guard >= 256 || better(px, half) {
                break;
            }
            (x, px) = (x / two, half);
            guard += 1;
        }
        (lo, hi) = ((x / two).max(one), x * two);
    }
    // golden section with symmetric interior points, so each step evaluates one new point;
    // the points are re-placed from the ratio whenever rounding lets them drift out of order
    let tol = |lo: U256| (lo / U256::from(10_000_000)).max(U256::from(8));
    let place = |lo: U256, hi: U256| {
        let x1 = lo + (hi - lo) * U256::from(382) / U256::from(1000);
        (x1, lo + (hi - x1))
    };
    let (mut x1, mut x2) = place(lo, hi);
    let (mut f1, mut f2) = (profit(hops, x1), profit(hops, x2));
    while hi - lo > tol(lo) {
        if better(f1, f2) {
            (hi, x2, f2) = (x2, x1, f1);
            x1 = lo + (hi - x2);
            f1 = profit(hops, x1);
        } else {
            (lo, x1, f1) = (x1, x2, f2);
            x2 = hi - (x1 - lo);
            f2 = profit(hops, x2);
        }
        if !(lo < x1 && x1 < x2 && x2 < hi) {
            if hi - lo <= U256::from(8) {
                break;
            }
            (x1, x2) = place(lo, hi);
            (f1, f2) = (profit(hops, x1), profit(hops, x2));
        }
    }
    let step = ((hi - lo) / U256::from(8)).max(one);
    let mut best = lo;
    let mut best_p = profit(hops, lo);
    let mut c = lo;
    while c <= hi {
        let pc = profit(hops, c);
        if better(pc, best_p) {
            (best, best_p) = (c, pc);
        }
        c += step;
    }
    best_p.filter(|p| p.is_positive()).map(|_| best)
}

/// The profit-maximising input and its amounts; `None` when no input makes a profit.
pub fn optimal(hops: &[Hop]) -> Result<Option<PathAmounts>, MathError> {
    if hops.is_empty() {
        return Err(MathError::InsufficientLiquidity);
    }
    let all_v2 = hops.iter().all(|h| matches!(h.pool, Pool::V2 { .. }));
    let best = if all_v2 {
        v2_closed_form(hops).and_then(|x| {
            let center = from_f64(x);
            let lo = center.saturating_sub(U256::from(2)).max(U256::from(1));
            (0..5u64)
                .map(|k| lo + U256::from(k))
                .filter_map(|c| profit(hops, c).map(|p| (c, p)))
                .max_by_key(|&(_, p)| p)
                .filter(|&(_, p)| p.is_positive())
                .map(|(c, _)| c)
        })
    } else {
        search(hops)
    };
    best.map(|x| path_amounts(hops, x)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::v3::Tick;

    fn v2(r0: u128, r1: u128, zfo: bool) -> Hop {
        Hop {
            pool: Pool::V2 { reserve0: U256::from(r0), reserve1: U256::from(r1), fee_bps: 30 },
            zero_for_one: zfo,
        }
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
}
