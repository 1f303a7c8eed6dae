//! FullMath.sol (v3-core `contracts/libraries/FullMath.sol`) and `UnsafeMath.divRoundingUp`,
//! with the 512-bit intermediate product of ruint.

use alloy_primitives::{U256, U512};

use crate::math::MathError;

/// floor(a*b/d) and whether a remainder was left.
#[inline]
fn mul_div_rem(a: U256, b: U256, denominator: U256) -> Result<(U256, bool), MathError> {
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
