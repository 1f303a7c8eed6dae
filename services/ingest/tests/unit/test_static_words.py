"""The hot-path word decoder agrees with eth_abi on every value and rejects what it rejects."""

import pytest
from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError
from hypothesis import example, given
from hypothesis import strategies as st

from titan_ingest.chain.abi import MalformedLogError, static_words

SWAP = (-256, -256, 160, 128, -24)
SWAP_TYPES = ["int256", "int256", "uint160", "uint128", "int24"]


@given(
    st.integers(-(2**255), 2**255 - 1),
    st.integers(-(2**255), 2**255 - 1),
    st.integers(0, 2**160 - 1),
    st.integers(0, 2**128 - 1),
    st.integers(-(2**23), 2**23 - 1),
)
@example(-(2**255), 2**255 - 1, 2**160 - 1, 2**128 - 1, -(2**23))
@example(0, 0, 0, 0, 0)
@example(1, -1, 1, 1, -887272)
def test_round_trip_against_eth_abi(a0: int, a1: int, price: int, liq: int, tick: int) -> None:
    data = encode(SWAP_TYPES, [a0, a1, price, liq, tick])
    assert static_words(SWAP, data) == (a0, a1, price, liq, tick)


@given(st.binary(min_size=32, max_size=32))
@example(b"\xff" * 32)
@example(b"\x00" * 31 + b"\x80")
@example(b"\x00" * 29 + b"\x80\x00\x00")
def test_rejects_what_eth_abi_rejects(word: bytes) -> None:
    for bits, abi_type in ((-24, "int24"), (112, "uint112"), (160, "uint160"), (-256, "int256")):
        try:
            expected = decode([abi_type], word, strict=True)[0]
        except DecodingError:
            with pytest.raises(MalformedLogError):
                static_words((bits,), word)
        else:
            assert static_words((bits,), word) == (expected,)


def test_short_data_is_malformed() -> None:
    with pytest.raises(MalformedLogError):
        static_words((112, 112), b"\x00" * 63)
