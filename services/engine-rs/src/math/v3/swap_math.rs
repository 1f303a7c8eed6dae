//! SwapMath.sol (v3-core `contracts/libraries/SwapMath.sol`): one step of a swap.

use alloy_primitives::{I256, U256};

use super::full_math::{mul_div, mul_div_rounding_up};
use super::sqrt_price_math::{
    get_amount0_delta, get_amount1_delta, get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
};
use crate::math::MathError;

const PIPS: U256 = U256::from_limbs([1_000_000, 0, 0, 0]);

/// One step of a swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapStep {
    pub sqrt_ratio_next_x96: U256,
    pub amount_in: U256,
    pub amount_out: U256,
    pub fee_amount: U256,
}

/// computeSwapStep: `amount_remaining >= 0` exact input, `< 0` exact output.
pub fn compute_swap_step(
    sqrt_ratio_current_x96: U256,
    sqrt_ratio_target_x96: U256,
    liquidity: u128,
    amount_remaining: I256,
    fee_pips: u32,
) -> Result<SwapStep, MathError> {
    swap_step(
        sqrt_ratio_current_x96,
        sqrt_ratio_target_x96,
        liquidity,
        amount_remaining,
        fee_pips,
        false,
    )
}

/// [`compute_swap_step`]; `short`: the caller knows that an exact input falls short of the
/// target (the amount less the fee is below the input the target needs, as [`super::SwapTable`]
/// knows from its bounds). The contract then takes its partial branch, and the input to the
/// target, a 256-bit division for token0, is read only if the price still lands on the target.
// the conditions are kept as SwapMath.sol writes them
#[allow(clippy::nonminimal_bool)]
pub(crate) fn swap_step(
    sqrt_ratio_current_x96: U256,
    sqrt_ratio_target_x96: U256,
    liquidity: u128,
    amount_remaining: I256,
    fee_pips: u32,
    short: bool,
) -> Result<SwapStep, MathError> {
    let (current, target) = (sqrt_ratio_current_x96, sqrt_ratio_target_x96);
    let zero_for_one = current >= target;
    let exact_in = !amount_remaining.is_negative();
    let fee = U256::from(fee_pips);
    if fee >= PIPS {
        return Err(MathError::InvalidFee);
    }
    let remaining_abs = amount_remaining.unsigned_abs();
    let mut amount_in = U256::ZERO;
    let mut amount_out = U256::ZERO;
    // the input that takes the price to the target (it cannot revert: under 2^192)
    let to_target = || {
        if zero_for_one {
            get_amount0_delta(target, current, liquidity, true)
        } else {
            get_amount1_delta(current, target, liquidity, true)
        }
    };
    let next = if exact_in {
        let less_fee = mul_div(remaining_abs, PIPS - fee, PIPS)?;
        if short {
            let next = get_next_sqrt_price_from_input(current, liquidity, less_fee, zero_for_one)?;
            if next == target {
                amount_in = to_target()?;
            }
            next
        } else {
            amount_in = to_target()?;
            if less_fee >= amount_in {
                target
            } else {
                get_next_sqrt_price_from_input(current, liquidity, less_fee, zero_for_one)?
            }
        }
    } else {
        amount_out = if zero_for_one {
            get_amount1_delta(target, current, liquidity, false)?
        } else {
            get_amount0_delta(current, target, liquidity, false)?
        };
        if remaining_abs >= amount_out {
            target
        } else {
            get_next_sqrt_price_from_output(current, liquidity, remaining_abs, zero_for_one)?
        }
    };
    let max = target == next;
    if zero_for_one {
        if !(max && exact_in) {
            amount_in = get_amount0_delta(next, current, liquidity, true)?;
        }
        if !(max && !exact_in) {
            amount_out = get_amount1_delta(next, current, liquidity, false)?;
        }
    } else {
        if !(max && exact_in) {
            amount_in = get_amount1_delta(current, next, liquidity, true)?;
        }
        if !(max && !exact_in) {
            amount_out = get_amount0_delta(current, next, liquidity, false)?;
        }
    }
    if !exact_in && amount_out > remaining_abs {
        amount_out = remaining_abs;
    }
    let fee_amount = if exact_in && next != target {
        remaining_abs - amount_in
    } else {
        mul_div_rounding_up(amount_in, fee, PIPS - fee)?
    };
    Ok(SwapStep { sqrt_ratio_next_x96: next, amount_in, amount_out, fee_amount })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_in_capped_at_target() {
        // v3-core SwapMath.spec: "exact amount in that gets capped at price target in one for zero"
        let price = U256::from(1) << 96;
        let target = U256::from(79623317895830914510639640423u128); // encodePriceSqrt(101, 100)
        let step = compute_swap_step(
            price,
            target,
            2 * 10u128.pow(18),
            I256::try_from(10i128.pow(18)).unwrap(),
            600,
        )
        .unwrap();
        assert_eq!(step.amount_in.to_string(), "9975124224178055");
        assert_eq!(step.fee_amount.to_string(), "5988667735148");
        assert_eq!(step.amount_out.to_string(), "9925619580021728");
        assert_eq!(step.sqrt_ratio_next_x96, target);
    }
}
