//! Big integers on the wire: decimal strings. Writes decimal; parses radix 10 only (no `0x`,
//! no sign on unsigned types, no fractions, nothing above the type's range).

use std::fmt;

use alloy_primitives::{I256, U256};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An integer type that travels as a decimal string.
pub trait DecimalInt: Sized + Copy + fmt::Display {
    const SIGNED: bool;
    fn parse_digits(negative: bool, digits: &str) -> Option<Self>;
}

impl DecimalInt for U256 {
    const SIGNED: bool = false;
    fn parse_digits(negative: bool, digits: &str) -> Option<Self> {
        if negative {
            return None;
        }
        U256::from_str_radix(digits, 10).ok()
    }
}

impl DecimalInt for u128 {
    const SIGNED: bool = false;
    fn parse_digits(negative: bool, digits: &str) -> Option<Self> {
        if negative {
            return None;
        }
        digits.parse().ok()
    }
}

impl DecimalInt for i128 {
    const SIGNED: bool = true;
    fn parse_digits(negative: bool, digits: &str) -> Option<Self> {
        let magnitude: u128 = digits.parse().ok()?;
        if negative {
            0i128.checked_sub_unsigned(magnitude)
        } else {
            i128::try_from(magnitude).ok()
        }
    }
}

impl DecimalInt for I256 {
    const SIGNED: bool = true;
    fn parse_digits(negative: bool, digits: &str) -> Option<Self> {
        let magnitude = U256::from_str_radix(digits, 10).ok()?;
        let value = I256::try_from(magnitude).ok()?;
        Some(if negative { -value } else { value })
    }
}

/// Parses a decimal string into `T`.
pub fn parse<T: DecimalInt>(s: &str) -> Result<T, String> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) if T::SIGNED => (true, rest),
        Some(_) => return Err("must not be negative".into()),
        None => (false, s),
    };
    // at most 78 digits (U256::MAX has 78), like titan_common.models: zero padding is no
    // way around the limit
    if digits.is_empty() || digits.len() > 78 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("expected a decimal integer string, got {s:?}"));
    }
    T::parse_digits(negative, digits).ok_or_else(|| format!("{s} is out of range"))
}

/// A `T` serialized as a decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dec<T>(pub T);

impl<T: DecimalInt> Serialize for Dec<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

struct DecVisitor<T>(std::marker::PhantomData<T>);

impl<T: DecimalInt> Visitor<'_> for DecVisitor<T> {
    type Value = Dec<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a decimal integer string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse(v).map(Dec).map_err(E::custom)
    }
}

impl<'de, T: DecimalInt> Deserialize<'de> for Dec<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(DecVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The canonical decimal of a digit string (sign kept, leading zeros gone), if it is one.
    fn num_digits_value(s: &str) -> Option<String> {
        let (sign, digits) = s.strip_prefix('-').map_or(("", s), |d| ("-", d));
        if !is_decimal(digits, false) {
            return None;
        }
        let trimmed = digits.trim_start_matches('0');
        Some(if trimmed.is_empty() { "0".into() } else { format!("{sign}{trimmed}") })
    }

    /// A canonical non-negative decimal at most U256::MAX, compared as text.
    fn fits_u256(canonical: &str) -> bool {
        let max = U256::MAX.to_string();
        canonical.len() < max.len() || (canonical.len() == max.len() && *canonical <= *max)
    }

    #[test]
    fn accepts_and_rejects() {
        assert_eq!(parse::<U256>("0"), Ok(U256::ZERO));
        assert_eq!(parse::<U256>(&U256::MAX.to_string()), Ok(U256::MAX));
        assert!(parse::<U256>(
            "115792089237316195423570985008687907853269984665640564039457584007913129639936"
        )
        .is_err());
        for bad in ["", "-1", "0x10", "1.5", "1e3", " 1", "+1", "abc"] {
            assert!(parse::<U256>(bad).is_err(), "{bad}");
        }
        assert_eq!(parse::<i128>("-5"), Ok(-5));
        assert_eq!(parse::<i128>(&i128::MIN.to_string()), Ok(i128::MIN));
        assert!(parse::<i128>("-").is_err());
        assert!(serde_json::from_str::<Dec<U256>>("12").is_err());
        assert!(serde_json::from_str::<Dec<U256>>("1.0").is_err()); // no float, ever
        assert_eq!(parse::<U256>(&"0".repeat(78)), Ok(U256::ZERO));
        assert!(parse::<U256>(&format!("{}1", "0".repeat(78))).is_err());
        assert_eq!(serde_json::to_string(&Dec(U256::from(12))).unwrap(), "\"12\"");
    }

    /// The law, stated apart from the code: 1 to 78 ASCII digits, a `-` first only when signed.
    fn is_decimal(s: &str, signed: bool) -> bool {
        let digits = if signed { s.strip_prefix('-').unwrap_or(s) } else { s };
        (1..=78).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    }

    proptest! {
        #[test]
        fn accepts_exactly_digit_strings_in_range(
            s in prop_oneof![
                any::<String>(),
                "[-+ ]?[0-9]{0,80}[ ._eEx]?[0-9]{0,3}",
                "[0-9\u{661}\u{ff11}_ +-]{0,90}",
            ]
        ) {
            let wide = num_digits_value(&s);
            match parse::<U256>(&s) {
                Ok(v) => {
                    prop_assert!(is_decimal(&s, false), "{s:?} accepted");
                    prop_assert_eq!(Some(v.to_string()), wide.clone());
                }
                Err(_) => prop_assert!(
                    !is_decimal(&s, false) || !fits_u256(wide.as_deref().unwrap_or("")),
                    "{s:?} refused"
                ),
            }
            let fits_i128 = wide.as_deref().is_some_and(|w| w.parse::<i128>().is_ok());
            match parse::<i128>(&s) {
                Ok(v) => {
                    prop_assert!(is_decimal(&s, true), "{s:?} accepted");
                    prop_assert_eq!(Some(v.to_string()), wide);
                }
                Err(_) => prop_assert!(!is_decimal(&s, true) || !fits_i128, "{s:?} refused"),
            }
        }

        #[test]
        fn round_trip(limbs in any::<[u64; 4]>(), v in any::<i128>()) {
            let x = U256::from_limbs(limbs);
            let json = serde_json::to_string(&Dec(x)).unwrap();
            prop_assert_eq!(serde_json::from_str::<Dec<U256>>(&json).unwrap().0, x);
            let json = serde_json::to_string(&Dec(v)).unwrap();
            prop_assert_eq!(serde_json::from_str::<Dec<i128>>(&json).unwrap().0, v);
        }
    }
}
