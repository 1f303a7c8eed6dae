//! Uniswap V2 amounts, following v2-periphery `contracts/libraries/UniswapV2Library.sol`.
//!
//! The fee is in basis points. A whole number of tenths of a percent (30 for Uniswap V2,
//! SushiSwap, QuickSwap) uses the contract's per-mille form (997/1000) so that even the uint256
//! overflow bound matches; any other fee the per-10,000 form.

use alloy_primitives::U256;

use super::MathError;

/// The largest reserve a V2 pair can hold (uint112).
pub const MAX_RESERVE: U256 = U256::from_limbs([u64::MAX, (1 << 48) - 1, 0, 0]);

/// (multiplier, base) of a fee in basis points: (997, 1000) for 30.
pub fn fee_factors(fee_bps: u32) -> Result<(u64, u64), MathError> {
    if fee_bps >= 10_000 {
        return Err(MathError::InvalidFee);
    }
    if fee_bps % 10 == 0 {
        Ok((1000 - u64::from(fee_bps) / 10, 1000))
    } else {
        Ok((10_000 - u64::from(fee_bps), 10_000))
    }
}

fn check_reserves(reserve_in: U256, reserve_out: U256) -> Result<(), MathError> {
    if reserve_in > MAX_RESERVE || reserve_out > MAX_RESERVE {
        return Err(MathError::ReserveOverflow);
    }
    if reserve_in.is_zero() || reserve_out.is_zero() {
        return Err(MathError::InsufficientLiquidity);
    }
    Ok(())
}

/// getAmountOut: the output for `amount_in`, rounded down.
pub fn get_amount_out(
    amount_in: U256,
    reserve_in: U256,
    reserve_out: U256,
    fee_bps: u32,
) -> Result<U256, MathError> {
    if amount_in.is_zero() {
        return Err(MathError::InsufficientInputAmount);
    }
    check_reserves(reserve_in, reserve_out)?;
    let (mult, base) = fee_factors(fee_bps)?;
    let with_fee = amount_in.checked_mul(U256::from(mult)).ok_or(MathError::MathOverflow)?;
    let numerator = with_fee.checked_mul(reserve_out).ok_or(MathError::MathOverflow)?;
    let denominator =
        (reserve_in * U256::from(base)).checked_add(with_fee).ok_or(MathError::MathOverflow)?;
    Ok(numerator / denominator)
}

/// getAmountIn: the input needed for `amount_out`, rounded up (the contract's `+ 1`).
pub fn get_amount_in(
    amount_out: U256,
    reserve_in: U256,
    reserve_out: U256,
    fee_bps: u32,
) -> Result<U256, MathError> {
    if amount_out.is_zero() {
        return Err(MathError::InsufficientOutputAmount);
    }
    check_reserves(reserve_in, reserve_out)?;
    if amount_out >= reserve_out {
        return Err(MathError::InsufficientLiquidity);
    }
    let (mult, base) = fee_factors(fee_bps)?;
    let numerator = reserve_in
        .checked_mul(amount_out)
        .and_then(|n| n.checked_mul(U256::from(base)))
        .ok_or(MathError::MathOverflow)?;
    let denominator = (reserve_out - amount_out) * U256::from(mult);
    (numerator / denominator).checked_add(U256::from(1)).ok_or(MathError::MathOverflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn u(v: u128) -> U256 {
        U256::from(v)
    }

    #[test]
    fn known_value() {
        let e18 = 10u128.pow(18);
        let out = get_amount_out(u(e18), u(100 * e18), u(200_000 * e18), 30).unwrap();
        assert_eq!(out, U256::from(1_974_316_068_794_122_597_700u128));
    }

    #[test]
    fn reverts() {
        assert_eq!(get_amount_out(u(0), u(1), u(1), 30), Err(MathError::InsufficientInputAmount));
        assert_eq!(get_amount_in(u(0), u(1), u(1), 30), Err(MathError::InsufficientOutputAmount));
        assert_eq!(get_amount_out(u(1), u(0), u(1), 30), Err(MathError::InsufficientLiquidity));
        assert_eq!(get_amount_in(u(10), u(100), u(10), 30), Err(MathError::InsufficientLiquidity));
        let big = MAX_RESERVE + u(1);
        assert_eq!(get_amount_out(u(1), big, u(1), 30), Err(MathError::ReserveOverflow));
        assert_eq!(get_amount_out(U256::MAX, u(1), u(1), 30), Err(MathError::MathOverflow));
        assert_eq!(fee_factors(10_000), Err(MathError::InvalidFee));
        assert_eq!(fee_factors(25), Ok((9975, 10_000)));
    }

    fn reserve() -> impl Strategy<Value = U256> {
        (1u128..(1u128 << 112)).prop_map(U256::from)
    }

    proptest! {
        #[test]
        fn out_below_reserve_and_monotone(a in 1u128.., r_in in reserve(), r_out in reserve()) {
            let a = U256::from(a);
            let out = get_amount_out(a, r_in, r_out, 30).unwrap();
            prop_assert!(out < r_out);
            let more = get_amount_out(a + U256::from(1), r_in, r_out, 30).unwrap();
            prop_assert!(more >= out);
        }

        #[test]
        fn amount_in_covers_amount_out(o in 1u128.., r_in in reserve(), r_out in reserve()) {
            if let Ok(needed) = get_amount_in(U256::from(o), r_in, r_out, 30) {
                prop_assert!(get_amount_out(needed, r_in, r_out, 30).unwrap() >= U256::from(o));
            }
        }

        #[test]
        fn never_panics(a in any::<[u64; 4]>(), r in any::<[u64; 4]>(), s in any::<[u64; 4]>(), f in any::<u32>()) {
            let (a, r, s) = (U256::from_limbs(a), U256::from_limbs(r), U256::from_limbs(s));
            let _ = get_amount_out(a, r, s, f);
            let _ = get_amount_in(a, r, s, f);
        }
    }
}
