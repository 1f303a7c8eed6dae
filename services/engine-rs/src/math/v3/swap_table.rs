//! Many exact-input swaps on one pool state in one direction, as sizing a cycle asks for: the
//! steps that reach their tick are computed once, and each swap starts at its last step.
//!
//! Why that is exact: a step of UniswapV3Pool.swap that reaches its tick moves amounts that depend
//! only on where it starts (price, liquidity, tick), never on the amount still to swap. SwapMath
//! caps step `j` at its tick when `mulDiv(remaining, 1e6 - fee, 1e6) >= amountIn_j`, that is when
//! `remaining >= ceil(amountIn_j * 1e6 / (1e6 - fee)) = amountIn_j + feeAmount_j` (the fee of a
//! capped step is `ceil(amountIn_j * fee / (1e6 - fee))`). With `paid_j` the input the steps
//! before `j` consume, an input `x` therefore runs step `j` to its tick exactly when
//! `x >= paid_{j+1}` (and `x > paid_j`: the loop stops when nothing remains). These bounds grow
//! with `j`, so a binary search finds how many steps `x` runs whole; the contract's own loop
//! ([`Walk`]) then runs from the state after them, with `x - paid_k` remaining.
//!
//! The table grows on demand, as far as the largest input asked for, and stops at a price limit,
//! at the edge of the ticks supplied, or at any step that fails: the loop takes over there and
//! meets the same failure.

use alloy_primitives::{I256, U256};

use super::swap::{price_limit, Walk};
use super::V3State;
use crate::math::MathError;

/// The loop's state after some whole steps, and what they moved.
#[derive(Debug, Clone, Copy)]
struct Start {
    walk: Walk,
    paid: U256,
    out: U256,
    /// The least input that also runs the step from here to its tick.
    covers: U256,
}

/// What an exact-input swap moved, and where it left the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swapped {
    pub amount_in: U256,
    pub amount_out: U256,
    pub sqrt_price_x96: U256,
    pub liquidity: u128,
}

/// Exact-input swaps from one state in one direction, without a price limit.
#[derive(Debug, Clone)]
pub struct SwapTable<'a> {
    state: &'a V3State,
    zero_for_one: bool,
    limit: U256,
    starts: Vec<Start>,
    /// The loop's state after every step recorded, with what they moved.
    after: (Walk, U256, U256),
    growing: bool,
}

/// What the table's own walk swaps: more than any step can take, so every step that reaches its
/// tick is one it records, yet small enough that `mulDiv(remaining, ..)` stays in 256 bits.
const PLENTY: I256 = I256::from_raw(U256::from_limbs([0, 0, 0, 1 << 8]));

impl<'a> SwapTable<'a> {
    pub fn new(state: &'a V3State, zero_for_one: bool) -> Result<Self, MathError> {
        let limit = price_limit(state, zero_for_one, PLENTY, None)?;
        Ok(SwapTable {
            state,
            zero_for_one,
            limit,
            starts: Vec::new(),
            after: (Walk::start(state, PLENTY), U256::ZERO, U256::ZERO),
            growing: true,
        })
    }

    /// Records whole steps until one needs more than `amount_in` (or recording stops).
    fn grow_past(&mut self, amount_in: U256) {
        while self.growing && self.starts.last().is_none_or(|s| s.covers <= amount_in) {
            let (walk, paid, out) = self.after;
            let mut next = walk;
            let recorded = match next.step(self.state, self.zero_for_one, self.limit) {
                Ok(moved) if moved.reached_tick && next.price != self.limit => {
                    paid.checked_add(moved.paid).zip(out.checked_add(moved.out))
                }
                _ => None,
            };
            let Some((paid_after, out_after)) = recorded else {
                self.growing = false;
                return;
            };
            let covers = paid_after.max(paid + U256::from(1));
            self.starts.push(Start { walk, paid, out, covers });
            self.after = (next, paid_after, out_after);
        }
    }

    /// Swaps `amount_in` in: the amounts [`super::swap`] gives, and the price and liquidity after.
    pub fn swap(&mut self, amount_in: U256) -> Result<Swapped, MathError> {
        let specified = I256::try_from(amount_in).map_err(|_| MathError::MathOverflow)?;
        price_limit(self.state, self.zero_for_one, specified, None)?;
        self.grow_past(amount_in);
        let whole = self.starts.partition_point(|s| s.covers <= amount_in);
        let (mut walk, paid, out) = match self.starts.get(whole) {
            Some(s) => (s.walk, s.paid, s.out),
            None => self.after,
        };
        // `amount_in < covers`: the step from a recorded start falls short of its tick
        walk.short_step = whole < self.starts.len();
        // `paid <= amount_in` (the steps before are whole), and outputs stay far below 2^255
        walk.remaining = I256::from_raw(amount_in - paid);
        walk.calculated = -I256::from_raw(out);
        walk.run(self.state, self.zero_for_one, self.limit)?;
        let taken = specified.checked_sub(walk.remaining).ok_or(MathError::MathOverflow)?;
        Ok(Swapped {
            amount_in: taken.into_raw(),
            amount_out: (-walk.calculated).into_raw(),
            sqrt_price_x96: walk.price,
            liquidity: walk.liquidity,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::v3::tick_math::get_sqrt_ratio_at_tick;
    use crate::math::v3::{swap, Tick};
    use proptest::prelude::*;

    /// What [`swap`] gives for an exact input without a limit.
    fn by_swap(state: &V3State, zero_for_one: bool, x: U256) -> Result<Swapped, MathError> {
        let specified = I256::try_from(x).map_err(|_| MathError::MathOverflow)?;
        let r = swap(state, zero_for_one, specified, None)?;
        let (taken, got) =
            if zero_for_one { (r.amount0, r.amount1) } else { (r.amount1, r.amount0) };
        Ok(Swapped {
            amount_in: taken.into_raw(),
            amount_out: (-got).into_raw(),
            sqrt_price_x96: r.sqrt_price_x96,
            liquidity: r.liquidity,
        })
    }

    /// Positions of random widths and sizes around `tick` (some ticks left out of the data).
    fn state(
        spacing: i32,
        tick: i32,
        offset: u64,
        positions: &[(i32, i32, u64)],
        cut: (i32, i32),
    ) -> V3State {
        let mut nets = std::collections::BTreeMap::<i32, i128>::new();
        let mut liquidity = 0u128;
        let base = tick.div_euclid(spacing);
        for &(a, b, l) in positions {
            let (lo, hi) = ((base - a) * spacing, (base + 1 + b) * spacing);
            *nets.entry(lo).or_default() += l as i128;
            *nets.entry(hi).or_default() -= l as i128;
            liquidity += l as u128;
        }
        let ticks = nets
            .into_iter()
            .filter(|&(i, n)| {
                n != 0 && i >= (base - cut.0) * spacing && i <= (base + cut.1) * spacing
            })
            .map(|(index, liquidity_net)| Tick { index, liquidity_net })
            .collect();
        let low = get_sqrt_ratio_at_tick(tick).unwrap();
        let high = get_sqrt_ratio_at_tick(tick + 1).unwrap();
        let sqrt_price_x96 = low + (high - low) * U256::from(offset % 1000) / U256::from(1000);
        V3State { sqrt_price_x96, tick, liquidity, fee: 3000, tick_spacing: spacing, ticks }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn equals_the_swap_loop(
            spacing in prop_oneof![Just(1), Just(10), Just(60), Just(200)],
            tick in -300_000i32..300_000,
            offset in any::<u64>(),
            positions in prop::collection::vec((0i32..600, 0i32..600, 1u64..u64::MAX), 1..40),
            cut in (0i32..700, 0i32..700),
            fee in prop_oneof![Just(0u32), Just(100), Just(500), Just(3000), Just(10_000), Just(999_999)],
            zero_for_one in any::<bool>(),
            amounts in prop::collection::vec((1u128..u128::MAX, 0u32..128), 1..24),
        ) {
            let s = V3State { fee, ..state(spacing, tick, offset, &positions, cut) };
            let Ok(mut table) = SwapTable::new(&s, zero_for_one) else { return Ok(()) };
            for (a, shift) in amounts {
                let x = U256::from(a >> shift);
                prop_assert_eq!(table.swap(x), by_swap(&s, zero_for_one, x), "{}", x);
                prop_assert_eq!(table.swap(x + U256::from(1)), by_swap(&s, zero_for_one, x + U256::from(1)));
            }
        }
    }

    #[test]
    fn every_step_bound_and_its_neighbours() {
        // inputs that end exactly on a tick, and one wei either side, in both directions
        // a ladder of nested positions, on spacing 1 so that steps also stop at word boundaries
        let ladder: Vec<(i32, i32, u64)> = (1..=20).map(|k| (30 * k, 30 * k, 1 << 58)).collect();
        let s = state(1, -200_321, 7, &ladder, (1000, 1000));
        for zero_for_one in [true, false] {
            let mut table = SwapTable::new(&s, zero_for_one).unwrap();
            table.swap(U256::from(u128::MAX)).ok();
            let bounds: Vec<U256> = table.starts.iter().map(|s| s.covers).collect();
            assert!(bounds.len() > 20, "{}", bounds.len());
            for b in bounds {
                for x in [b - U256::from(1), b, b + U256::from(1)] {
                    assert_eq!(table.swap(x), by_swap(&s, zero_for_one, x), "{x}");
                }
            }
        }
    }
}
