//! SqrtPriceMath.sol (v3-core `contracts/libraries/SqrtPriceMath.sol`).

use alloy_primitives::{U128, U256};

use super::full_math::{div_rounding_up, mul_div, mul_div_rounding_up, to_u128};
use crate::math::MathError;

/// type(uint160).max
pub const MAX_U160: U256 = U256::from_limbs([u64::MAX, u64::MAX, u32::MAX as u64, 0]);
const Q96: U256 = U256::from_limbs([0, 1 << 32, 0, 0]);

/// Truncating cast to uint160, as `uint160(x)` in Solidity.
#[inline]
fn truncate_u160(x: U256) -> U256 {
    x & MAX_U160
}

/// getNextSqrtPriceFromAmount0RoundingUp
pub fn get_next_sqrt_price_from_amount0_rounding_up(
    sqrt_px96: U256,
    liquidity: u128,
    amount: U256,
    add: bool,
) -> Result<U256, MathError> {
    if amount.is_zero() {
        return Ok(sqrt_px96);
    }
    let numerator1: U256 = U256::from(liquidity) << 96;
    let product = product(amount, sqrt_px96);
    if add {
        if let Some(product) = product {
            if let Some(denominator) = numerator1.checked_add(product) {
                return Ok(truncate_u160(mul_div_rounding_up(numerator1, sqrt_px96, denominator)?));
            }
        }
        let step = (numerator1 / sqrt_px96).checked_add(amount).ok_or(MathError::MathOverflow)?;
        return Ok(truncate_u160(div_rounding_up(numerator1, step)));
    }
    let product = product.ok_or(MathError::MathOverflow)?;
    if numerator1 <= product {
        return Err(MathError::MathOverflow);
    }
    let result = mul_div_rounding_up(numerator1, sqrt_px96, numerator1 - product)?;
    if result > MAX_U160 {
        return Err(MathError::MathOverflow);
    }
    Ok(result)
}

/// getNextSqrtPriceFromAmount1RoundingDown
pub fn get_next_sqrt_price_from_amount1_rounding_down(
    sqrt_px96: U256,
    liquidity: u128,
    amount: U256,
    add: bool,
) -> Result<U256, MathError> {
    let liquidity = U256::from(liquidity);
    if add {
        let quotient = if amount <= MAX_U160 {
            if liquidity.is_zero() {
                return Err(MathError::MathOverflow);
            }
            (amount << 96) / liquidity
        } else {
            mul_div(amount, Q96, liquidity)?
        };
        let result = sqrt_px96.checked_add(quotient).ok_or(MathError::MathOverflow)?;
        if result > MAX_U160 {
            return Err(MathError::MathOverflow);
        }
        return Ok(result);
    }
    let quotient = if amount <= MAX_U160 {
        div_rounding_up(amount << 96, liquidity)
    } else {
        mul_div_rounding_up(amount, Q96, liquidity)?
    };
    if sqrt_px96 <= quotient {
        return Err(MathError::MathOverflow);
    }
    Ok(sqrt_px96 - quotient)
}

/// getNextSqrtPriceFromInput
pub fn get_next_sqrt_price_from_input(
    sqrt_px96: U256,
    liquidity: u128,
    amount_in: U256,
    zero_for_one: bool,
) -> Result<U256, MathError> {
    if sqrt_px96.is_zero() || liquidity == 0 {
        return Err(MathError::MathOverflow);
    }
    if zero_for_one {
        get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96, liquidity, amount_in, true)
    } else {
        get_next_sqrt_price_from_amount1_rounding_down(sqrt_px96, liquidity, amount_in, true)
    }
}

/// getNextSqrtPriceFromOutput
pub fn get_next_sqrt_price_from_output(
    sqrt_px96: U256,
    liquidity: u128,
    amount_out: U256,
    zero_for_one: bool,
) -> Result<U256, MathError> {
    if sqrt_px96.is_zero() || liquidity == 0 {
        return Err(MathError::MathOverflow);
    }
    if zero_for_one {
        get_next_sqrt_price_from_amount1_rounding_down(sqrt_px96, liquidity, amount_out, false)
    } else {
        get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96, liquidity, amount_out, false)
    }
}

/// getAmount0Delta (unsigned form)
pub fn get_amount0_delta(
    sqrt_a: U256,
    sqrt_b: U256,
    liquidity: u128,
    round_up: bool,
) -> Result<U256, MathError> {
    let (sqrt_a, sqrt_b) = if sqrt_a > sqrt_b { (sqrt_b, sqrt_a) } else { (sqrt_a, sqrt_b) };
    let numerator1: U256 = U256::from(liquidity) << 96;
    let numerator2 = sqrt_b - sqrt_a;
    if sqrt_a.is_zero() {
        return Err(MathError::MathOverflow);
    }
    // The contract divides twice, by sqrt_b then by sqrt_a. For integers ceil(ceil(x/b)/a) =
    // ceil(x/(a*b)), and floor likewise, so where x and a*b fit 256 bits (mulDiv cannot revert
    // then) one division gives the same result at half the cost.
    if let (Some(x), Some(ab)) = (shifted_product(liquidity, numerator2), product(sqrt_a, sqrt_b)) {
        let (q, r) = x.div_rem(ab);
        return Ok(if round_up && !r.is_zero() { q + U256::from(1) } else { q });
    }
    if round_up {
        Ok(div_rounding_up(mul_div_rounding_up(numerator1, numerator2, sqrt_b)?, sqrt_a))
    } else {
        Ok(mul_div(numerator1, numerator2, sqrt_b)? / sqrt_a)
    }
}

/// `a·b` when it fits 256 bits; with 128-bit factors (most pools' prices) one widening multiply.
#[inline(always)]
fn product(a: U256, b: U256) -> Option<U256> {
    match (to_u128(a), to_u128(b)) {
        (Some(a), Some(b)) => Some(U128::from(a).widening_mul(U128::from(b))),
        _ => a.checked_mul(b),
    }
}

/// `(liquidity·x) << 96` when it fits 256 bits.
#[inline(always)]
fn shifted_product(liquidity: u128, x: U256) -> Option<U256> {
    let p = product(U256::from(liquidity), x)?;
    (p.leading_zeros() >= 96).then(|| p << 96)
}

/// getAmount1Delta (unsigned form)
pub fn get_amount1_delta(
    sqrt_a: U256,
    sqrt_b: U256,
    liquidity: u128,
    round_up: bool,
) -> Result<U256, MathError> {
    let (sqrt_a, sqrt_b) = if sqrt_a > sqrt_b { (sqrt_b, sqrt_a) } else { (sqrt_a, sqrt_b) };
    let liquidity = U256::from(liquidity);
    // mulDiv by Q96 is a shift of the product, when the product fits 256 bits
    if let Some(product) = product(liquidity, sqrt_b - sqrt_a) {
        let limbs = product.as_limbs();
        let remainder = limbs[0] | (limbs[1] & 0xffff_ffff);
        let q = product >> 96;
        return Ok(if round_up && remainder != 0 { q + U256::from(1) } else { q });
    }
    if round_up {
        mul_div_rounding_up(liquidity, sqrt_b - sqrt_a, Q96)
    } else {
        mul_div(liquidity, sqrt_b - sqrt_a, Q96)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn e18() -> u128 {
        10u128.pow(18)
    }

    #[test]
    fn price_moves_the_right_way() {
        let p = Q96;
        let l = e18();
        let down = get_next_sqrt_price_from_input(p, l, U256::from(e18() / 10), true).unwrap();
        let up = get_next_sqrt_price_from_input(p, l, U256::from(e18() / 10), false).unwrap();
        assert!(down < p && up > p);
        assert_eq!(
            get_next_sqrt_price_from_input(p, 0, U256::from(1), true),
            Err(MathError::MathOverflow)
        );
        // from v3-core SqrtPriceMath.spec: 0.1 token1 in at price 1, liquidity 1
        assert_eq!(up.to_string(), "87150978765690771352898345369");
        assert_eq!(down.to_string(), "72025602285694852357767227579");
    }

    /// getAmount0Delta and getAmount1Delta as the contract writes them.
    fn contract_deltas(a: U256, b: U256, l: u128, up: bool) -> (Option<U256>, Option<U256>) {
        let (a, b) = if a > b { (b, a) } else { (a, b) };
        let n1 = U256::from(l) << 96;
        let d0 = if up {
            mul_div_rounding_up(n1, b - a, b).ok().map(|q| div_rounding_up(q, a))
        } else {
            mul_div(n1, b - a, b).ok().map(|q| q / a)
        };
        let d1 = if up {
            mul_div_rounding_up(U256::from(l), b - a, Q96).ok()
        } else {
            mul_div(U256::from(l), b - a, Q96).ok()
        };
        (d0, d1)
    }

    proptest! {
        #[test]
        fn deltas_equal_the_contract_formulas(
            a in any::<[u64; 3]>(), b in any::<[u64; 3]>(), l in any::<u128>(), shift in 0usize..100,
            b_shift in prop_oneof![Just(0usize), 0usize..100], up in any::<bool>()
        ) {
            // prices up to 2^160, and small ones too (most pools' prices are below 2^128)
            let a: U256 = U256::from_limbs([a[0], a[1], a[2], 0]) >> (32 + b_shift + shift);
            let b: U256 = U256::from_limbs([b[0], b[1], b[2], 0]) >> (32 + b_shift);
            prop_assume!(!a.is_zero() && !b.is_zero());
            let (d0, d1) = contract_deltas(a, b, l, up);
            prop_assert_eq!(get_amount0_delta(a, b, l, up).ok(), d0);
            prop_assert_eq!(get_amount1_delta(a, b, l, up).ok(), d1);
        }
    }

    #[test]
    fn amount_deltas() {
        let a = Q96;
        let b = U256::from(87150978765690771352898345369u128);
        let up = get_amount1_delta(a, b, e18(), true).unwrap();
        let down = get_amount1_delta(a, b, e18(), false).unwrap();
        assert_eq!(up - down, U256::from(1));
        assert_eq!(get_amount0_delta(a, a, e18(), true), Ok(U256::ZERO));
    }
}
