//! Sizing: the input that maximises a path's profit `out(x) - x`.
//!
//! Every hop's output is concave in its input and rounds down, so profit is concave up to a few
//! wei of rounding. A constant-product pool `out = γ·b·y / (a + γ·y)` is a Möbius map of its
//! input, and so is a chain of them: `F(y) = (A·y + B) / (C·y + D)`, whose `F(y) - y` peaks at
//! `y* = (√(AD - BC) - D) / C`. A V2 pair is such a pool; a V3 pool is one while the price stays
//! in a tick range, with the range's virtual reserves `L/√P` and `L·√P`.
//!
//! - The marginal rate at zero input, `F'(0)` of the path's Möbius map at the current prices,
//!   decides first: at most 1, no input is profitable (concave outputs that round down).
//! - All-V2 paths: `y*` is the optimum, computed in `f64` (relative error ~1e-12), and the
//!   integers around it decide. Profit is flat at the optimum, so the shortfall is second order.
//! - Paths with V3 hops: Newton's method on the Möbius picture. Each round evaluates the path
//!   exactly at the current input and maps every hop around the amount it receives there (V3: the
//!   virtual reserves of the range the swap ends in); `y*` of that map is the next input. Within
//!   one set of ranges the map is exact, so this settles in a round or two once the ranges stop
//!   changing. The answer `x̂` is then checked on integers: if `x̂` is at least as profitable as
//!   `x̂ ± x̂/2e7`, concavity puts the best input within 1e-7 (relative) of it and the best of the
//!   three is taken. Otherwise, or if Newton does not settle in 8 rounds, a golden-section search
//!   on integers runs from there down to a bracket of 1e-7 of the input.
//!
//! Whichever search ran, its answer is moved to the cheapest input that buys the same output (the
//! cheap end of a staircase, where a middle token has coarse units), and only then is the profit's
//! sign judged: on the stair's dear end a profitable path can show a loss.
//!
//! Either way the input is within 1e-7 (relative) of the best one, up to rounding noise, and the
//! profit is within a few wei of the best profit over all integer inputs: tests compare with an
//! exhaustive integer search on small pools and a dense exact scan on large ones.
//!
//! The many swaps a search makes on one V3 state share its whole steps through a [`SwapTable`].
//! Inputs where a hop reverts or runs past the supplied ticks count as infeasible.

use alloy_primitives::{I256, U256};

use super::{Hop, Pool};
use crate::math::v2;
use crate::math::v3::{SwapTable, Swapped};
use crate::math::MathError;

/// `out = (a·y + b) / (c·y + d)` of an input `y`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Mobius {
    a: f64,
    b: f64,
    c: f64,
    d: f64,
}

impl Mobius {
    const IDENTITY: Mobius = Mobius { a: 1.0, b: 0.0, c: 0.0, d: 1.0 };

    /// A constant-product pool `(reserve_in, reserve_out, γ)` entered after `x0` went in for
    /// `o0` out: `out(y) = o0 + γ·r_out·(y - x0) / (r_in + γ·(y - x0))`.
    fn constant_product((r_in, r_out, gamma): (f64, f64, f64), x0: f64, o0: f64) -> Self {
        let a = gamma * (o0 + r_out);
        Mobius { a, b: o0 * r_in - a * x0, c: gamma, d: r_in - gamma * x0 }
    }

    /// `self(first(y))`, scaled so that products of many hops stay in range.
    fn after(self, first: Mobius) -> Mobius {
        let m = Mobius {
            a: self.a * first.a + self.b * first.c,
            b: self.a * first.b + self.b * first.d,
            c: self.c * first.a + self.d * first.c,
            d: self.c * first.b + self.d * first.d,
        };
        let scale = m.a.abs().max(m.b.abs()).max(m.c.abs()).max(m.d.abs());
        Mobius { a: m.a / scale, b: m.b / scale, c: m.c / scale, d: m.d / scale }
    }

    fn det(self) -> f64 {
        self.a * self.d - self.b * self.c
    }

    /// `F'(0) > 1`: a small input makes a profit.
    fn profitable_at_zero(self) -> bool {
        self.det() > self.d * self.d
    }

    /// The input where `F(y) - y` peaks.
    fn optimum(self) -> Option<f64> {
        let y = (self.det().sqrt() - self.d) / self.c;
        (y.is_finite() && y > 0.0).then_some(y)
    }
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

/// A V2 pair as `(reserve_in, reserve_out, γ)`.
fn v2_reserves(
    reserve0: U256,
    reserve1: U256,
    fee_bps: u32,
    zero_for_one: bool,
) -> Option<(f64, f64, f64)> {
    let (a, b) = if zero_for_one { (reserve0, reserve1) } else { (reserve1, reserve0) };
    let (m, base) = v2::fee_factors(fee_bps).ok()?;
    let (a, b) = (to_f64(a), to_f64(b));
    (a > 0.0 && b > 0.0).then_some((a, b, m as f64 / base as f64))
}

/// A V3 range as `(reserve_in, reserve_out, γ)`: its virtual reserves `L/√P` and `L·√P`;
/// `None` without liquidity.
fn v3_reserves(
    sqrt_price_x96: U256,
    liquidity: u128,
    fee: u32,
    zero_for_one: bool,
) -> Option<(f64, f64, f64)> {
    let l = liquidity as f64;
    let sqrt_price = to_f64(sqrt_price_x96) / 2f64.powi(96);
    let (x, y) = (l / sqrt_price, l * sqrt_price);
    let (a, b) = if zero_for_one { (x, y) } else { (y, x) };
    let usable = a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite();
    usable.then_some((a, b, 1.0 - f64::from(fee) / 1e6))
}

/// A path's output for the many inputs a search tries: each V3 hop keeps a [`SwapTable`], so an
/// input costs a binary search and the last step or two of each V3 swap.
struct PathOut<'a> {
    hops: &'a [Hop],
    tables: Vec<Option<SwapTable<'a>>>,
}

impl<'a> PathOut<'a> {
    fn new(hops: &'a [Hop]) -> Self {
        let tables = hops
            .iter()
            .map(|hop| match &hop.pool {
                Pool::V3(state) => SwapTable::new(state, hop.zero_for_one).ok(),
                Pool::V2 { .. } => None,
            })
            .collect();
        PathOut { hops, tables }
    }

    /// The path at `amount_in`, as [`Hop::amount_out`] gives it hop by hop, and each hop as a
    /// Möbius map around the amount it receives, composed (when `map` is asked for).
    fn run(&mut self, amount_in: U256, map: bool) -> Result<(U256, Option<Mobius>), MathError> {
        let (mut x, mut composed) = (amount_in, Some(Mobius::IDENTITY));
        for (hop, table) in self.hops.iter().zip(&mut self.tables) {
            let (out, local) = match (table, &hop.pool) {
                (Some(table), Pool::V3(state)) => {
                    let Swapped { amount_in, amount_out, sqrt_price_x96, liquidity } =
                        table.swap(x)?;
                    if amount_in != x {
                        return Err(MathError::InsufficientLiquidity);
                    }
                    let range = map
                        .then(|| {
                            v3_reserves(sqrt_price_x96, liquidity, state.fee, hop.zero_for_one)
                        })
                        .flatten();
                    let local =
                        range.map(|r| Mobius::constant_product(r, to_f64(x), to_f64(amount_out)));
                    (amount_out, local)
                }
                (_, Pool::V2 { reserve0, reserve1, fee_bps }) => {
                    let pair = map
                        .then(|| v2_reserves(*reserve0, *reserve1, *fee_bps, hop.zero_for_one))
                        .flatten();
                    (hop.amount_out(x)?, pair.map(|r| Mobius::constant_product(r, 0.0, 0.0)))
                }
                (None, Pool::V3(_)) => (hop.amount_out(x)?, None),
            };
            composed = composed.zip(local).map(|(c, l)| l.after(c));
            x = out;
        }
        Ok((x, composed))
    }

    /// Profit at an input, `None` when infeasible.
    fn profit(&mut self, x: U256) -> Option<I256> {
        if x.is_zero() || x > U256::from(u128::MAX) {
            return None;
        }
        let (out, _) = self.run(x, false).ok()?;
        Some(I256::from_raw(out).saturating_sub(I256::from_raw(x)))
    }
}

/// The path's Möbius map at zero input (V3 pools at their current range).
fn at_zero(hops: &[Hop]) -> Option<Mobius> {
    hops.iter().try_fold(Mobius::IDENTITY, |composed, hop| {
        let reserves = match &hop.pool {
            Pool::V2 { reserve0, reserve1, fee_bps } => {
                v2_reserves(*reserve0, *reserve1, *fee_bps, hop.zero_for_one)
            }
            Pool::V3(s) => v3_reserves(s.sqrt_price_x96, s.liquidity, s.fee, hop.zero_for_one),
        }?;
        Some(Mobius::constant_product(reserves, 0.0, 0.0).after(composed))
    })
}

/// The profit-maximising input, `None` when no input makes a profit.
pub(super) fn best_input(hops: &[Hop]) -> Option<U256> {
    let all_v2 = hops.iter().all(|h| matches!(h.pool, Pool::V2 { .. }));
    let mut path = PathOut::new(hops);
    let found = match at_zero(hops) {
        Some(m) if !m.profitable_at_zero() => None,
        // exact but for f64 rounding: the integers around it decide
        Some(m) if all_v2 => {
            let center = from_f64(m.optimum()?);
            let lo = center.saturating_sub(U256::from(2)).max(U256::from(1));
            (0..5u64)
                .map(|k| lo + U256::from(k))
                .filter_map(|c| path.profit(c).map(|p| (c, p)))
                .max_by_key(|&(_, p)| p)
                .map(|(c, _)| c)
        }
        Some(m) => newton(&mut path, m.optimum()?),
        None if all_v2 => None,
        None => golden_section(&mut path, first_guess(&hops[0])),
    }?;
    // the sign is judged at the cheap end of the stair: the searches' answer may sit on its
    // dear end, a loss by a few units of the middle token where the cheap end makes a profit
    let mut best = (found, path.profit(found));
    if let Some(least) = least_input_for(&mut path, found) {
        let at_least = path.profit(least);
        if better(at_least, best.1) {
            best = (least, at_least);
        }
    }
    best.1.filter(|p| p.is_positive()).map(|_| best.0)
}

/// The least input that buys the output `x` buys, by the contracts' exact-output amounts hop by
/// hop backwards. Where an intermediate token has coarse units (6 decimals against 18), profit is
/// a staircase in the input, and this is the cheap end of the stair `x` is on.
fn least_input_for(path: &mut PathOut, x: U256) -> Option<U256> {
    let (out, _) = path.run(x, false).ok()?;
    path.hops.iter().rev().try_fold(out, |need, hop| hop.amount_in(need).ok())
}

/// Newton's method on the Möbius picture from `x`, then the check on integers (module docs):
/// the best feasible input found, profitable or not.
fn newton(path: &mut PathOut, mut x: f64) -> Option<U256> {
    for _ in 0..8 {
        let Ok((_, Some(map))) = path.run(from_f64(x), true) else { break };
        let Some(next) = map.optimum() else { break };
        let settled = (next - x).abs() <= x * 1e-10;
        x = next;
        if settled {
            let x = from_f64(x);
            let eps = (x / U256::from(20_000_000)).max(U256::from(4));
            let around = [x.saturating_sub(eps), x, x + eps].map(|c| (c, path.profit(c)));
            let (best, p) = around[1];
            if !better(around[0].1, p) && !better(around[2].1, p) {
                let (c, p) =
                    around.into_iter().fold((best, p), |a, b| if better(b.1, a.1) { b } else { a });
                return p.map(|_| c);
            }
            break;
        }
    }
    golden_section(path, from_f64(x))
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

/// Golden-section search over integers for the best input of a concave profit: bracketed by
/// doubling or halving from `start`, narrowed to 1e-7 of the input (or 8 wei), then the final
/// bracket scanned at 9 points. The best feasible input found, profitable or not.
fn golden_section(path: &mut PathOut, start: U256) -> Option<U256> {
    let one = U256::from(1);
    let two = U256::from(2);
    let mut x = start;
    let mut px = path.profit(x);
    let mut guard = 0;
    while px.is_none() && x > one && guard < 128 {
        x /= two;
        px = path.profit(x);
        guard += 1;
    }
    let (mut lo, mut hi);
    let mut p2 = path.profit(x * two);
    if better(p2, px) {
        loop {
            let p4 = path.profit(x * two * two);
            if guard >= 256 || !better(p4, p2) {
                break;
            }
            (x, p2) = (x * two, p4);
            guard += 1;
        }
        (lo, hi) = (x, x * two * two);
    } else {
        loop {
            let half = path.profit(x / two);
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
    let (mut f1, mut f2) = (path.profit(x1), path.profit(x2));
    while hi - lo > tol(lo) {
        // infeasible inputs (a hop runs out of ticks or liquidity) are the large ones: when
        // both points are, the best input lies below them
        if better(f1, f2) || (f1.is_none() && f2.is_none()) {
            (hi, x2, f2) = (x2, x1, f1);
            x1 = lo + (hi - x2);
            f1 = path.profit(x1);
        } else {
            (lo, x1, f1) = (x1, x2, f2);
            x2 = hi - (x1 - lo);
            f2 = path.profit(x2);
        }
        if !(lo < x1 && x1 < x2 && x2 < hi) {
            if hi - lo <= U256::from(8) {
                break;
            }
            (x1, x2) = place(lo, hi);
            (f1, f2) = (path.profit(x1), path.profit(x2));
        }
    }
    let step = ((hi - lo) / U256::from(8)).max(one);
    let mut best = lo;
    let mut best_p = path.profit(lo);
    let mut c = lo;
    while c <= hi {
        let pc = path.profit(c);
        if better(pc, best_p) {
            (best, best_p) = (c, pc);
        }
        c += step;
    }
    best_p.map(|_| best)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod bound_tests;
