//! TickMath.sol (v3-core `contracts/libraries/TickMath.sol`): ticks and Q64.96 sqrt prices.

use alloy_primitives::{U128, U256};

use crate::math::MathError;

pub const MIN_TICK: i32 = -887_272;
pub const MAX_TICK: i32 = 887_272;
/// getSqrtRatioAtTick(MIN_TICK)
pub const MIN_SQRT_RATIO: U256 = U256::from_limbs([4_295_128_739, 0, 0, 0]);
/// getSqrtRatioAtTick(MAX_TICK) = 1461446703485210103287273052203988822378723970342
pub const MAX_SQRT_RATIO: U256 =
    U256::from_limbs([0x5d95_1d52_6398_8d26, 0xefd1_fc6a_5064_8849, 0xfffd_8963, 0]);

/// The factor of bit 0 of |tick|; the others follow, bit by bit.
const FACTOR_1: u128 = 0xfffcb933bd6fad37aa2d162d1a594001;
const FACTORS: [(u32, u128); 19] = [
    (0x2, 0xfff97272373d413259a46990580e213a),
    (0x4, 0xfff2e50f5f656932ef12357cf3c7fdcc),
    (0x8, 0xffe5caca7e10e4e61c3624eaa0941cd0),
    (0x10, 0xffcb9843d60f6159c9db58835c926644),
    (0x20, 0xff973b41fa98c081472e6896dfb254c0),
    (0x40, 0xff2ea16466c96a3843ec78b326b52861),
    (0x80, 0xfe5dee046a99a2a811c461f1969c3053),
    (0x100, 0xfcbe86c7900a88aedcffc83b479aa3a4),
    (0x200, 0xf987a7253ac413176f2b074cf7815e54),
    (0x400, 0xf3392b0822b70005940c7a398e4b70f3),
    (0x800, 0xe7159475a2c29b7443b29c7fa6e889d9),
    (0x1000, 0xd097f3bdfd2022b8845ad8f792aa5825),
    (0x2000, 0xa9f746462d870fdf8a65dc1f90e061e5),
    (0x4000, 0x70d869a156d2a1b890bb3df62baf32f7),
    (0x8000, 0x31be135f97d08fd981231505542fcfa6),
    (0x10000, 0x9aa508b5b7a84e1c677de54f3e99bc9),
    (0x20000, 0x5d6af8dedb81196699c329225ee604),
    (0x40000, 0x2216e584f5fa1ea926041bedfe98),
    (0x80000, 0x48a170391f7dc42444e8fa2),
];

/// (a * b) >> 128, exactly.
#[inline(always)]
fn mul_shift_128(a: u128, b: u128) -> u128 {
    let product: U256 = U128::from(a).widening_mul(U128::from(b));
    let limbs = product.as_limbs();
    (limbs[3] as u128) << 64 | limbs[2] as u128
}

/// getSqrtRatioAtTick: sqrt(1.0001^tick) * 2^96, rounded up.
///
/// The contract's chain of products in 256-bit words, done in 128 bits: `ratio` starts at
/// 2^128 or below and each factor is below 2^128, so `(ratio * factor) >> 128` stays below
/// 2^128; 2^128 itself (no odd bit yet) is kept as `None`, and 2^128 * f >> 128 = f.
pub fn get_sqrt_ratio_at_tick(tick: i32) -> Result<U256, MathError> {
    let abs_tick = tick.unsigned_abs();
    if abs_tick > MAX_TICK as u32 {
        return Err(MathError::TickOutOfRange);
    }
    let mut ratio: Option<u128> = (abs_tick & 0x1 != 0).then_some(FACTOR_1);
    for &(bit, factor) in &FACTORS {
        if abs_tick & bit != 0 {
            ratio = Some(match ratio {
                Some(r) => mul_shift_128(r, factor),
                None => factor,
            });
        }
    }
    let mut ratio = match ratio {
        Some(r) => U256::from(r),
        None => U256::from(1) << 128,
    };
    if tick > 0 {
        ratio = U256::MAX / ratio;
    }
    let rounded = if ratio.as_limbs()[0] as u32 == 0 { 0 } else { 1 };
    Ok((ratio >> 32) + U256::from(rounded))
}

/// getTickAtSqrtRatio: the greatest tick whose sqrt ratio is at most `sqrt_price_x96`.
///
/// By that definition rather than by the contract's binary logarithm, in a third of the time:
/// in `f64` the price's real-valued tick is off by less than 1e-9 ticks, and the contract's
/// ratios differ from the real ones by less than 1e-5 ticks (their rounding to integers, at the
/// smallest prices). More than [`NEAR_A_TICK`] from a whole tick the floor is the answer; nearer,
/// getSqrtRatioAtTick of that tick decides. Tests compare it with the contract's algorithm
/// on random prices, near every tick's ratio, and at every tick's ratio and the integer below.
pub fn get_tick_at_sqrt_ratio(sqrt_price_x96: U256) -> Result<i32, MathError> {
    if sqrt_price_x96 < MIN_SQRT_RATIO || sqrt_price_x96 >= MAX_SQRT_RATIO {
        return Err(MathError::SqrtPriceOutOfRange);
    }
    // sqrt_price = 2^96 · 1.0001^(tick/2)
    let estimate = (f64::from(sqrt_price_x96).log2() - 96.0) * TICKS_PER_OCTAVE;
    let floor = estimate.floor();
    if (NEAR_A_TICK..1.0 - NEAR_A_TICK).contains(&(estimate - floor)) {
        return Ok(floor as i32);
    }
    // the price is near the ratio of the whole tick `n`: the answer is `n` or the one below
    let n = (estimate.round() as i32).clamp(MIN_TICK, MAX_TICK);
    Ok(if get_sqrt_ratio_at_tick(n)? <= sqrt_price_x96 { n } else { n - 1 })
}

/// Ticks per doubling of the sqrt price: `2 / log2(1.0001)`.
const TICKS_PER_OCTAVE: f64 = 13_863.636_746_829_117;
/// How near a whole tick an estimate must be for the ratios to be checked: a hundred times the
/// largest error above.
const NEAR_A_TICK: f64 = 1e-3;

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::I256;
    use proptest::prelude::*;

    #[test]
    fn bounds() {
        assert_eq!(get_sqrt_ratio_at_tick(MIN_TICK), Ok(MIN_SQRT_RATIO));
        assert_eq!(get_sqrt_ratio_at_tick(MAX_TICK), Ok(MAX_SQRT_RATIO));
        assert_eq!(MAX_SQRT_RATIO.to_string(), "1461446703485210103287273052203988822378723970342");
        assert_eq!(get_sqrt_ratio_at_tick(0), Ok(U256::from(1) << 96));
        assert_eq!(get_tick_at_sqrt_ratio(MIN_SQRT_RATIO), Ok(MIN_TICK));
        assert_eq!(get_tick_at_sqrt_ratio(MAX_SQRT_RATIO - U256::from(1)), Ok(MAX_TICK - 1));
        assert_eq!(get_sqrt_ratio_at_tick(MAX_TICK + 1), Err(MathError::TickOutOfRange));
        assert_eq!(get_sqrt_ratio_at_tick(MIN_TICK - 1), Err(MathError::TickOutOfRange));
        assert_eq!(get_tick_at_sqrt_ratio(MAX_SQRT_RATIO), Err(MathError::SqrtPriceOutOfRange));
        assert_eq!(
            get_tick_at_sqrt_ratio(MIN_SQRT_RATIO - U256::from(1)),
            Err(MathError::SqrtPriceOutOfRange)
        );
    }

    /// `x` as an `i32` when it fits (`i32::try_from` goes through a slow generic path).
    #[inline]
    fn to_i32(x: I256) -> Option<i32> {
        let limbs = x.into_raw().into_limbs();
        let sign_extension = if (limbs[0] as i64) < 0 { u64::MAX } else { 0 };
        if limbs[1..].iter().any(|&l| l != sign_extension) {
            return None;
        }
        i32::try_from(limbs[0] as i64).ok()
    }

    /// getTickAtSqrtRatio as the contract computes it: its binary logarithm, with `r` in 128
    /// bits (normalised to bit 127, so each square is below 2^256 and `(r * r) >> 127` below
    /// 2^129).
    fn contract_tick_at_sqrt_ratio(sqrt_price_x96: U256) -> Result<i32, MathError> {
        if sqrt_price_x96 < MIN_SQRT_RATIO || sqrt_price_x96 >= MAX_SQRT_RATIO {
            return Err(MathError::SqrtPriceOutOfRange);
        }
        let ratio: U256 = sqrt_price_x96 << 32;
        let msb = ratio.bit_len() - 1;
        let normalised: U256 = if msb >= 128 { ratio >> (msb - 127) } else { ratio << (127 - msb) };
        let mut r = normalised.to::<u128>();
        let mut log_2: i128 = (msb as i128 - 128) << 64;
        for shift in (50..64).rev() {
            let square: U256 = U128::from(r).widening_mul(U128::from(r));
            let limbs = square.as_limbs();
            let high = (limbs[3] as u128) << 64 | limbs[2] as u128;
            // f: bit 128 of (r * r) >> 127, that is bit 255 of the square; then r >>= f
            let f = limbs[3] >> 63;
            log_2 |= (f as i128) << shift;
            r = if f == 1 { high } else { high << 1 | (limbs[1] >> 63) as u128 };
        }
        let log_sqrt10001 = I256::try_from(log_2).unwrap_or_default()
            * I256::from_raw(U256::from(255_738_958_999_603_826_347_141u128));
        let low = I256::from_raw(U256::from(3_402_992_956_809_132_418_596_140_100_660_247_210u128));
        let high =
            I256::from_raw(U256::from(291_339_464_771_989_622_907_027_621_153_398_088_495u128));
        let tick_low =
            to_i32((log_sqrt10001 - low).asr(128)).ok_or(MathError::SqrtPriceOutOfRange)?;
        let tick_hi =
            to_i32((log_sqrt10001 + high).asr(128)).ok_or(MathError::SqrtPriceOutOfRange)?;
        if tick_low == tick_hi {
            return Ok(tick_low);
        }
        Ok(if get_sqrt_ratio_at_tick(tick_hi)? <= sqrt_price_x96 { tick_hi } else { tick_low })
    }

    /// getSqrtRatioAtTick as the contract writes it, in 256-bit words.
    fn contract_sqrt_ratio_at_tick(tick: i32) -> U256 {
        let abs_tick = tick.unsigned_abs();
        let mut ratio =
            if abs_tick & 0x1 != 0 { U256::from(FACTOR_1) } else { U256::from(1) << 128 };
        for &(bit, factor) in &FACTORS {
            if abs_tick & bit != 0 {
                ratio = (ratio * U256::from(factor)) >> 128;
            }
        }
        if tick > 0 {
            ratio = U256::MAX / ratio;
        }
        let rounded = if ratio.as_limbs()[0] as u32 == 0 { 0 } else { 1 };
        (ratio >> 32) + U256::from(rounded)
    }

    #[test]
    fn every_tick_equals_the_contract_and_round_trips() {
        let mut previous = U256::ZERO;
        for tick in MIN_TICK..=MAX_TICK {
            let price = get_sqrt_ratio_at_tick(tick).unwrap();
            assert_eq!(price, contract_sqrt_ratio_at_tick(tick), "tick {tick}");
            assert!(price > previous, "tick {tick}");
            previous = price;
            if tick < MAX_TICK {
                assert_eq!(get_tick_at_sqrt_ratio(price), Ok(tick));
            }
            if tick > MIN_TICK {
                assert_eq!(get_tick_at_sqrt_ratio(price - U256::from(1)), Ok(tick - 1));
            }
        }
    }

    proptest! {
        #[test]
        fn round_trip(tick in MIN_TICK..MAX_TICK) {
            let price = get_sqrt_ratio_at_tick(tick).unwrap();
            prop_assert_eq!(get_tick_at_sqrt_ratio(price).unwrap(), tick);
            if tick > MIN_TICK {
                prop_assert_eq!(get_tick_at_sqrt_ratio(price - U256::from(1)).unwrap(), tick - 1);
            }
        }

        #[test]
        fn tick_at_sqrt_ratio_equals_the_contract(limbs in any::<[u64; 3]>(), shift in 0usize..130) {
            // prices over the whole range, evenly in their logarithm
            let price = U256::from_limbs([limbs[0], limbs[1], limbs[2] & 0xffff_ffff, 0]) >> shift;
            let price = price.clamp(MIN_SQRT_RATIO, MAX_SQRT_RATIO - U256::from(1));
            prop_assert_eq!(get_tick_at_sqrt_ratio(price), contract_tick_at_sqrt_ratio(price));
        }

        #[test]
        fn near_a_tick_equals_the_contract(tick in MIN_TICK..=MAX_TICK, offset in -(1i64 << 40)..1 << 40) {
            let ratio = get_sqrt_ratio_at_tick(tick).unwrap();
            let price = if offset < 0 {
                ratio.saturating_sub(U256::from(offset.unsigned_abs()))
            } else {
                ratio + U256::from(offset)
            };
            let price = price.clamp(MIN_SQRT_RATIO, MAX_SQRT_RATIO - U256::from(1));
            prop_assert_eq!(get_tick_at_sqrt_ratio(price), contract_tick_at_sqrt_ratio(price));
        }

        #[test]
        fn never_panics(limbs in any::<[u64; 4]>(), tick in any::<i32>()) {
            let _ = get_tick_at_sqrt_ratio(U256::from_limbs(limbs));
            let _ = get_sqrt_ratio_at_tick(tick);
        }
    }
}
