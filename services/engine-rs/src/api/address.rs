//! An address on the wire: `0x` and 40 hex digits in any case in, EIP-55 out.

use std::cell::RefCell;
use std::collections::HashMap;

use alloy_primitives::Address;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An address: any case in, EIP-55 out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WireAddress(pub Address);

/// EIP-55 forms already computed, per thread: each costs a keccak (a sixth of a `POST /api/pool`
/// with its three addresses), and the same pools and tokens come back request after request.
const CHECKSUM_MEMO_MAX: usize = 4096;

thread_local! {
    static CHECKSUMS: RefCell<HashMap<Address, String>> = RefCell::new(HashMap::new());
}

impl Serialize for WireAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        CHECKSUMS.with_borrow_mut(|memo| {
            if memo.len() >= CHECKSUM_MEMO_MAX && !memo.contains_key(&self.0) {
                memo.clear();
            }
            s.serialize_str(memo.entry(self.0).or_insert_with(|| self.0.to_checksum(None)))
        })
    }
}

impl<'de> Deserialize<'de> for WireAddress {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // `0x` and 40 hex digits in any case, as titan_common.models and the OpenAPI pattern say
        match s.strip_prefix("0x") {
            Some(h) if h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                h.parse::<Address>().map(WireAddress).map_err(serde::de::Error::custom)
            }
            _ => Err(serde::de::Error::custom(format!("invalid address {s:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Exactly `0x` + 40 hex digits (any case) is an address, written EIP-55; the output
        /// reads back to itself.
        #[test]
        fn address_law(
            s in prop_oneof![
                any::<String>(),
                "0[xX][0-9a-fA-FgG ]{38,42}",
                any::<[u8; 20]>().prop_map(|b| format!("0x{}", alloy_primitives::hex::encode(b))),
                any::<[u8; 20]>().prop_map(|b| format!("0x{}", alloy_primitives::hex::encode_upper(b))),
            ]
        ) {
            let body = s.strip_prefix("0x").unwrap_or("");
            let valid = body.len() == 40 && body.bytes().all(|b| b.is_ascii_hexdigit());
            let parsed = serde_json::from_value::<WireAddress>(serde_json::Value::String(s.clone()));
            prop_assert_eq!(parsed.is_ok(), valid, "{:?}", s);
            if let Ok(a) = parsed {
                let out = serde_json::to_value(a).unwrap();
                let text = out.as_str().unwrap().to_string();
                prop_assert_eq!(text.to_lowercase(), s.to_lowercase());
                prop_assert_eq!(serde_json::from_value::<WireAddress>(out).unwrap(), a);
                prop_assert_eq!(text, a.0.to_checksum(None));
            }
        }
    }

    #[test]
    fn checksums_stay_right_past_the_memo_size() {
        // one address again and again, then enough others to clear the memo, then it again
        let first = WireAddress(Address::with_last_byte(7));
        let expected = format!("\"{}\"", first.0.to_checksum(None));
        for _ in 0..3 {
            assert_eq!(serde_json::to_string(&first).unwrap(), expected);
        }
        for i in 0..(CHECKSUM_MEMO_MAX as u64 + 10) {
            let a = WireAddress(Address::left_padding_from(&(i + 1000).to_be_bytes()));
            let text = serde_json::to_string(&a).unwrap();
            assert_eq!(text, format!("\"{}\"", a.0.to_checksum(None)));
        }
        assert_eq!(serde_json::to_string(&first).unwrap(), expected);
    }

    #[test]
    fn address_any_case_in_checksum_out() {
        let a: WireAddress =
            serde_json::from_str("\"0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f\"").unwrap();
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            "\"0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f\""
        );
        assert!(serde_json::from_str::<WireAddress>("\"0x5c69\"").is_err());
        assert!(serde_json::from_str::<WireAddress>(
            "\"0X5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f\""
        )
        .is_err());
        assert!(serde_json::from_str::<WireAddress>(
            "\"5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f\""
        )
        .is_err());
    }
}
