//! The swap loop of UniswapV3Pool.sol (v3-core `contracts/UniswapV3Pool.sol`, `swap`) over a
//! sorted list of initialized ticks instead of storage; [`super::tick_bitmap`] finds each step's
//! next tick as the contract's bitmap does.
//!
//! The ticks supplied are taken as complete from the lowest to the highest one given, and
//! nothing is assumed outside that span (also where the current tick lies outside it). There a
//! step ends at the nearest tick that could be initialized (a multiple of the spacing within
//! `MIN_TICK..=MAX_TICK`), marked unknown: the amounts up to it do not depend on the missing data
//! and stay exact, and the swap fails with [`MathError::InsufficientTickData`] only if the price
//! reaches that tick, since crossing it would need its `liquidityNet`. A swap that ends before it
//! (amount or price limit) is answered exactly, as is one past the last tick the spacing allows.
//! Protocol fees change only fee growth, not amounts, and are left out.

use alloy_primitives::{I256, U256};

use super::swap_math::swap_step;
use super::tick_bitmap::{next_initialized_tick_within_one_word, NextTick};
use super::tick_math::{
    get_sqrt_ratio_at_tick, get_tick_at_sqrt_ratio, MAX_SQRT_RATIO, MAX_TICK, MIN_SQRT_RATIO,
    MIN_TICK,
};
use crate::math::MathError;

/// An initialized tick: its index and `liquidityNet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    pub index: i32,
    pub liquidity_net: i128,
}

/// The swap-relevant state of a V3 pool; `ticks` sorted by index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V3State {
    pub sqrt_price_x96: U256,
    pub tick: i32,
    pub liquidity: u128,
    /// Fee in hundredths of a bip (3000 = 0.3%).
    pub fee: u32,
    pub tick_spacing: i32,
    pub ticks: Vec<Tick>,
}

impl V3State {
    /// Ticks sorted, unique, multiples of the spacing and in range; fee and spacing sane.
    pub fn validate(&self) -> Result<(), MathError> {
        if self.tick_spacing <= 0 || self.fee >= 1_000_000 {
            return Err(MathError::InvalidTickData);
        }
        let ordered = self.ticks.windows(2).all(|w| w[0].index < w[1].index);
        let aligned = self
            .ticks
            .iter()
            .all(|t| t.index % self.tick_spacing == 0 && (MIN_TICK..=MAX_TICK).contains(&t.index));
        if ordered && aligned {
            Ok(())
        } else {
            Err(MathError::InvalidTickData)
        }
    }
}

/// Pool deltas (positive: into the pool) and the state after the swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapResult {
    pub amount0: I256,
    pub amount1: I256,
    pub sqrt_price_x96: U256,
    pub tick: i32,
    pub liquidity: u128,
}

fn add_delta(x: u128, y: i128) -> Result<u128, MathError> {
    if y < 0 { x.checked_sub(y.unsigned_abs()) } else { x.checked_add(y as u128) }
        .ok_or(MathError::LiquidityOverflow)
}

fn to_i256(x: U256) -> Result<I256, MathError> {
    I256::try_from(x).map_err(|_| MathError::MathOverflow)
}

/// The price limit of a swap, checked as the contract does; `None` is the widest one.
pub(crate) fn price_limit(
    state: &V3State,
    zero_for_one: bool,
    amount_specified: I256,
    sqrt_price_limit_x96: Option<U256>,
) -> Result<U256, MathError> {
    if amount_specified.is_zero() {
        return Err(MathError::ZeroAmount);
    }
    if amount_specified == I256::MIN {
        return Err(MathError::MathOverflow);
    }
    let one = U256::from(1);
    let limit = sqrt_price_limit_x96.unwrap_or(if zero_for_one {
        MIN_SQRT_RATIO + one
    } else {
        MAX_SQRT_RATIO - one
    });
    let price = state.sqrt_price_x96;
    let valid_limit = if zero_for_one {
        limit < price && limit > MIN_SQRT_RATIO
    } else {
        limit > price && limit < MAX_SQRT_RATIO
    };
    if valid_limit {
        Ok(limit)
    } else {
        Err(MathError::InvalidPriceLimit)
    }
}

/// The swap loop's state between steps (`SwapState` in the contract), and where the walk
/// through `ticks` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Walk {
    pub remaining: I256,
    pub calculated: I256,
    pub price: U256,
    /// `None` after a step that ended inside a range: the contract's getTickAtSqrtRatio there is
    /// computed only when something reads the tick (its revert, a price out of range, is not
    /// deferred).
    tick: Option<i32>,
    pub liquidity: u128,
    cursor: Option<usize>,
    /// The next step is known to fall short of its target (see [`swap_step`]).
    pub short_step: bool,
}

/// What one step moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StepMoved {
    /// amountIn + feeAmount, and amountOut.
    pub paid: U256,
    pub out: U256,
    /// The step ended on the tick it aimed at (not at the price limit, not inside the range).
    pub reached_tick: bool,
}

impl Walk {
    pub fn start(state: &V3State, amount_specified: I256) -> Self {
        Walk {
            remaining: amount_specified,
            calculated: I256::ZERO,
            price: state.sqrt_price_x96,
            tick: Some(state.tick),
            liquidity: state.liquidity,
            cursor: None,
            short_step: false,
        }
    }

    pub fn tick(&mut self) -> i32 {
        match self.tick {
            Some(tick) => tick,
            None => {
                // the price was checked in range when the tick was deferred
                let tick = get_tick_at_sqrt_ratio(self.price).unwrap_or_default();
                self.tick = Some(tick);
                tick
            }
        }
    }

    /// The loop of UniswapV3Pool.swap.
    pub fn run(
        &mut self,
        state: &V3State,
        zero_for_one: bool,
        limit: U256,
    ) -> Result<(), MathError> {
        while !self.remaining.is_zero() && self.price != limit {
            self.step(state, zero_for_one, limit)?;
        }
        Ok(())
    }

    /// One pass of the loop.
    pub fn step(
        &mut self,
        state: &V3State,
        zero_for_one: bool,
        limit: U256,
    ) -> Result<StepMoved, MathError> {
        let exact_input = self.remaining.is_positive();
        let start = self.price;
        let tick = self.tick();
        let (next, kind) = next_initialized_tick_within_one_word(
            &state.ticks,
            &mut self.cursor,
            tick,
            state.tick_spacing,
            zero_for_one,
        );
        let next = next.clamp(MIN_TICK, MAX_TICK);
        let price_next = get_sqrt_ratio_at_tick(next)?;
        let use_limit = if zero_for_one { price_next < limit } else { price_next > limit };
        let target = if use_limit { limit } else { price_next };
        let short = std::mem::take(&mut self.short_step);
        let step = swap_step(self.price, target, self.liquidity, self.remaining, state.fee, short)?;
        self.price = step.sqrt_ratio_next_x96;
        let paid = step.amount_in.checked_add(step.fee_amount).ok_or(MathError::MathOverflow)?;
        let (paid_signed, out) = (to_i256(paid)?, to_i256(step.amount_out)?);
        let overflow = MathError::MathOverflow;
        if exact_input {
            self.remaining = self.remaining.checked_sub(paid_signed).ok_or(overflow)?;
            self.calculated = self.calculated.checked_sub(out).ok_or(overflow)?;
        } else {
            self.remaining = self.remaining.checked_add(out).ok_or(overflow)?;
            self.calculated = self.calculated.checked_add(paid_signed).ok_or(overflow)?;
        }
        if self.price == price_next {
            if kind == NextTick::Unknown {
                return Err(MathError::InsufficientTickData);
            }
            if let NextTick::Initialized(pos) = kind {
                let net = state.ticks[pos].liquidity_net;
                let net = if zero_for_one {
                    net.checked_neg().ok_or(MathError::LiquidityOverflow)?
                } else {
                    net
                };
                self.liquidity = add_delta(self.liquidity, net)?;
            }
            self.tick = Some(if zero_for_one { next - 1 } else { next });
        } else if self.price != start {
            if self.price < MIN_SQRT_RATIO || self.price >= MAX_SQRT_RATIO {
                return Err(MathError::SqrtPriceOutOfRange);
            }
            self.tick = None;
        }
        Ok(StepMoved {
            paid,
            out: step.amount_out,
            reached_tick: target == price_next && self.price == target,
        })
    }

    /// The pool deltas and the state after the swap.
    pub fn result(
        mut self,
        zero_for_one: bool,
        amount_specified: I256,
    ) -> Result<SwapResult, MathError> {
        let exact_input = amount_specified.is_positive();
        let filled = amount_specified.checked_sub(self.remaining).ok_or(MathError::MathOverflow)?;
        let (amount0, amount1) = if zero_for_one == exact_input {
            (filled, self.calculated)
        } else {
            (self.calculated, filled)
        };
        let tick = self.tick();
        Ok(SwapResult {
            amount0,
            amount1,
            sqrt_price_x96: self.price,
            tick,
            liquidity: self.liquidity,
        })
    }
}

/// UniswapV3Pool.swap: `amount_specified > 0` exact input, `< 0` exact output.
pub fn swap(
    state: &V3State,
    zero_for_one: bool,
    amount_specified: I256,
    sqrt_price_limit_x96: Option<U256>,
) -> Result<SwapResult, MathError> {
    let limit = price_limit(state, zero_for_one, amount_specified, sqrt_price_limit_x96)?;
    let mut walk = Walk::start(state, amount_specified);
    walk.run(state, zero_for_one, limit)?;
    walk.result(zero_for_one, amount_specified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const L: u128 = 1_000_000_000_000_000_000_000;

    /// Liquidity L over the full range plus 50 nested positions of L/10 around tick 0.
    pub(crate) fn pool(width: i32) -> V3State {
        let mut ticks = vec![
            Tick { index: -887_220, liquidity_net: L as i128 },
            Tick { index: 887_220, liquidity_net: -(L as i128) },
        ];
        for k in 1..=width {
            ticks.push(Tick { index: -k * 60, liquidity_net: (L / 10) as i128 });
            ticks.push(Tick { index: k * 60, liquidity_net: -((L / 10) as i128) });
        }
        ticks.sort_by_key(|t| t.index);
        V3State {
            sqrt_price_x96: U256::from(1) << 96,
            tick: 0,
            liquidity: L + width as u128 * (L / 10),
            fee: 3000,
            tick_spacing: 60,
            ticks,
        }
    }

    fn i(v: i128) -> I256 {
        I256::try_from(v).unwrap()
    }

    #[test]
    fn reverts() {
        let s = pool(50);
        assert_eq!(swap(&s, true, I256::ZERO, None), Err(MathError::ZeroAmount));
        let above = s.sqrt_price_x96 + U256::from(1);
        assert_eq!(swap(&s, true, i(10), Some(above)), Err(MathError::InvalidPriceLimit));
        assert_eq!(swap(&s, false, i(10), Some(MAX_SQRT_RATIO)), Err(MathError::InvalidPriceLimit));
        let narrow = V3State {
            ticks: vec![
                Tick { index: -60, liquidity_net: 1 },
                Tick { index: 60, liquidity_net: -1 },
            ],
            ..pool(0)
        };
        assert_eq!(
            swap(&narrow, true, i(10i128.pow(30)), None),
            Err(MathError::InsufficientTickData)
        );
        let unsorted = V3State {
            ticks: vec![
                Tick { index: 60, liquidity_net: 1 },
                Tick { index: -60, liquidity_net: -1 },
            ],
            ..pool(0)
        };
        assert_eq!(unsorted.validate(), Err(MathError::InvalidTickData));
    }

    #[test]
    fn crosses_ticks_and_partial_fills_at_limit() {
        let s = pool(50);
        let r = swap(&s, true, i(10i128.pow(23)), None).unwrap();
        assert!(r.tick < -600 && r.liquidity < s.liquidity);
        let limit = get_sqrt_ratio_at_tick(-30).unwrap();
        let r = swap(&s, true, i(10i128.pow(30)), Some(limit)).unwrap();
        assert_eq!(r.sqrt_price_x96, limit);
        assert!(r.amount0 < i(10i128.pow(30)));
    }

    /// `pool(50)` moved to tick 30 (no tick between 0 and 30), only the ticks `keep` accepts.
    fn at_30(keep: fn(i32) -> bool) -> V3State {
        let s = pool(50);
        let ticks = s.ticks.iter().copied().filter(|t| keep(t.index)).collect();
        V3State { sqrt_price_x96: get_sqrt_ratio_at_tick(30).unwrap(), tick: 30, ticks, ..s }
    }

    #[test]
    fn missing_ticks_raise_only_when_reached() {
        let full = at_30(|_| true);
        let spans: [fn(i32) -> bool; 3] =
            [|i| (-600..=600).contains(&i), |i| i >= 120, |i| i <= -120];
        for keep in spans {
            let part = at_30(keep);
            for z in [true, false] {
                let mut raised = 0;
                for a in [15, 18, 21, 23, 25]
                    .into_iter()
                    .flat_map(|e| [i(10i128.pow(e)), -i(10i128.pow(e))])
                {
                    match swap(&part, z, a, None) {
                        Err(MathError::InsufficientTickData) => raised += 1,
                        got => assert_eq!(got, swap(&full, z, a, None), "{a}"),
                    }
                }
                assert!(raised >= 2);
                assert_eq!(
                    swap(&part, z, i(10i128.pow(15)), None),
                    swap(&full, z, i(10i128.pow(15)), None)
                );
            }
        }
    }

    #[test]
    fn past_the_last_tick_the_spacing_allows_is_known() {
        let s = V3State {
            ticks: vec![
                Tick { index: -887_220, liquidity_net: L as i128 },
                Tick { index: 887_220, liquidity_net: -(L as i128) },
            ],
            liquidity: L,
            ..pool(0)
        };
        let r = swap(&s, false, -i(10i128.pow(30)), None).unwrap();
        assert_eq!((r.tick, r.liquidity), (887_271, 0));
    }

    proptest! {
        #[test]
        fn exact_in_then_exact_out(zero_for_one in any::<bool>(), amount in 1u128..10u128.pow(24)) {
            let s = pool(50);
            let Ok(fwd) = swap(&s, zero_for_one, i(amount as i128), None) else { return Ok(()); };
            let (paid, got) = if zero_for_one { (fwd.amount0, -fwd.amount1) } else { (fwd.amount1, -fwd.amount0) };
            prop_assert!(!got.is_negative());
            if zero_for_one { prop_assert!(fwd.sqrt_price_x96 <= s.sqrt_price_x96) } else { prop_assert!(fwd.sqrt_price_x96 >= s.sqrt_price_x96) }
            if got.is_zero() { return Ok(()); }
            let back = swap(&s, zero_for_one, -got, None).unwrap();
            let back_paid = if zero_for_one { back.amount0 } else { back.amount1 };
            // exact output asks no more than the exact input paid. The last step rounds the price
            // to a whole Q64.96 unit: one wei in the amount and one in the fee where a unit of
            // price is worth under a wei, proportionally more far from tick 0 (< 1e-17 relative)
            prop_assert!(back_paid <= paid);
            prop_assert!(paid - back_paid <= i(2) + paid / i(10i128.pow(17)));
        }

        #[test]
        fn never_panics(p in any::<[u64; 4]>(), tick in any::<i32>(), l in any::<u128>(), a in any::<[u64; 4]>(), z in any::<bool>(), fee in 0u32..1_000_000) {
            let s = V3State { sqrt_price_x96: U256::from_limbs(p), tick, liquidity: l, fee, ..pool(3) };
            let _ = swap(&s, z, I256::from_raw(U256::from_limbs(a)), None);
        }
    }
}
