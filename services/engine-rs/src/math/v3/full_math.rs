//! FullMath.sol (v3-core `contracts/libraries/FullMath.sol`) and `UnsafeMath.divRoundingUp`,
//! with the 512-bit intermediate product of ruint.

use alloy_primitives::{U256, U512};

use crate::math::MathError;

/// `x` as a `u128` when it fits.
#[inline]
pub(crate) fn to_u128(x: U256) -> Option<u128> {
    let limbs = x.as_limbs();
    (limbs[2] | limbs[3] == 0).then(|| (limbs[1] as u128) << 64 | limbs[0] as u128)
}

/// floor(a*b/d) and whether a remainder was left.
#[inline(always)]
fn mul_div_rem(a: U256, b: U256, denominator: U256) -> Result<(U256, bool), MathError> {
    // most amounts, fees and liquidities of a swap step fit 128 bits: native arithmetic there,
    // one division for quotient and remainder
    if let (Some(a), Some(b), Some(d)) = (to_u128(a), to_u128(b), to_u128(denominator)) {
        if let (Some(product), true) = (a.checked_mul(b), d != 0) {
            let q = product / d;
            return Ok((U256::from(q), product - q * d != 0));
        }
    }
    mul_div_rem_wide(a, b, denominator)
}

/// [`mul_div_rem`] beyond 128 bits: the 256-bit product when it fits, else the 512-bit one.
#[inline(never)]
fn mul_div_rem_wide(a: U256, b: U256, denominator: U256) -> Result<(U256, bool), MathError> {
    if denominator.is_zero() {
        return Err(MathError::MathOverflow);
    }
    if let Some(product) = a.checked_mul(b) {
        let (q, r) = product.div_rem(denominator);
        return Ok((q, !r.is_zero()));
    }
    let product: U512 = a.widening_mul(b);
    let (q, r) = product.div_rem(U512::from(denominator));
    let limbs = q.as_limbs();
    if limbs[4..].iter().any(|&l| l != 0) {
        return Err(MathError::MathOverflow);
    }
    Ok((U256::from_limbs([limbs[0], limbs[1], limbs[2], limbs[3]]), !r.is_zero()))
}

/// mulDiv: floor(a*b/denominator); reverts when the result exceeds uint256 or on a zero divisor.
#[inline]
pub fn mul_div(a: U256, b: U256, denominator: U256) -> Result<U256, MathError> {
    mul_div_rem(a, b, denominator).map(|(q, _)| q)
}

/// mulDivRoundingUp: ceil(a*b/denominator).
#[inline]
pub fn mul_div_rounding_up(a: U256, b: U256, denominator: U256) -> Result<U256, MathError> {
    let (q, rem) = mul_div_rem(a, b, denominator)?;
    if rem {
        q.checked_add(U256::from(1)).ok_or(MathError::MathOverflow)
    } else {
        Ok(q)
    }
}

/// UnsafeMath.divRoundingUp: ceil(x/y); the EVM gives 0 for y == 0.
#[inline]
pub fn div_rounding_up(x: U256, y: U256) -> U256 {
    if y.is_zero() {
        return U256::ZERO;
    }
    let (q, r) = x.div_rem(y);
    if r.is_zero() {
        q
    } else {
        q + U256::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn edges() {
        let max = U256::MAX;
        assert_eq!(mul_div(max, max, max), Ok(max));
        assert_eq!(mul_div(max, max, max - U256::from(1)), Err(MathError::MathOverflow));
        assert_eq!(mul_div(U256::from(1), U256::from(1), U256::ZERO), Err(MathError::MathOverflow));
        assert_eq!(
            mul_div_rounding_up(U256::from(5), U256::from(1), U256::from(2)),
            Ok(U256::from(3))
        );
        assert_eq!(div_rounding_up(U256::from(5), U256::ZERO), U256::ZERO);
    }

    proptest! {
        #[test]
        fn matches_wide_arithmetic(a in any::<[u64; 4]>(), b in any::<[u64; 4]>(), d in any::<[u64; 4]>()) {
            let (a, b, d) = (U256::from_limbs(a), U256::from_limbs(b), U256::from_limbs(d));
            prop_assume!(!d.is_zero());
            let wide: U512 = a.widening_mul(b);
            let exact = wide / U512::from(d);
            match mul_div(a, b, d) {
                Ok(q) => prop_assert_eq!(U512::from(q), exact),
                Err(_) => prop_assert!(exact > U512::from(U256::MAX)),
            }
        }
    }
}
