"""Laws of the wire parsers of big integers and addresses, stated independently of their code:
exactly the ASCII-digit strings in range are integers, exactly `0x` + 40 hex digits are
addresses, output round-trips, and no value ever passes through a float."""

from __future__ import annotations

import json
import string

import pytest
from eth_utils.address import is_checksum_address
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from titan_common.models import (
    INT256_MAX,
    INT256_MIN,
    UINT256_MAX,
    PoolStateV2,
    parse_address,
    parse_int256,
    parse_uint256,
)

ADDR = "0x" + "ab" * 20
# Strings close to valid ones: digits with signs, spaces, separators, exponents, hex, unicode
# digits, and lengths around the 78-digit limit.
NEAR_INTEGERS = st.one_of(
    st.text(),
    st.from_regex(r"\A[-+ ]?[0-9]{0,80}[ ._eEx]?[0-9]{0,3}\Z"),
    st.text(alphabet="0123456789\u0661\u0662\uff11_ -+", max_size=90),
)
NEAR_ADDRESSES = st.one_of(
    st.text(),
    st.from_regex(r"\A0[xX][0-9a-fA-FgG ]{38,42}\Z"),
    st.binary(min_size=19, max_size=21).map(lambda b: "0x" + b.hex()),
)


def is_decimal(text: str, signed: bool) -> bool:
    digits = text[1:] if signed and text.startswith("-") else text
    return 1 <= len(digits) <= 78 and all(c in string.digits for c in digits)


@given(NEAR_INTEGERS)
@example("0")
@example("0" * 78)
@example("0" * 79)
@example(str(UINT256_MAX))
@example(str(UINT256_MAX + 1))
@example("1_000")
@example("\u0661")  # an Arabic-Indic digit: int() takes it, the wire must not
@example("-0")
def test_uint256_accepts_exactly_ascii_digit_strings_in_range(text: str) -> None:
    if is_decimal(text, signed=False) and int(text) <= UINT256_MAX:
        assert parse_uint256(text) == int(text)
    else:
        with pytest.raises(ValueError):
            parse_uint256(text)


@given(NEAR_INTEGERS)
@example(str(INT256_MIN))
@example(str(INT256_MIN - 1))
@example(str(INT256_MAX + 1))
@example("--1")
def test_int256_accepts_exactly_signed_digit_strings_in_range(text: str) -> None:
    if is_decimal(text, signed=True) and INT256_MIN <= int(text) <= INT256_MAX:
        assert parse_int256(text) == int(text)
    else:
        with pytest.raises(ValueError):
            parse_int256(text)


@given(st.floats(allow_nan=True, allow_infinity=True))
@example(1.0)
@example(2.0**200)
def test_no_float_is_ever_an_integer(value: float) -> None:
    with pytest.raises(ValueError):
        parse_uint256(value)
    with pytest.raises(ValueError):
        parse_int256(value)


def v2_json(reserve: str) -> str:
    return (
        f'{{"kind": "v2", "address": "{ADDR}", "dex": "uniswap_v2", "token0": "{ADDR}", '
        f'"token1": "{ADDR}", "reserve0": {reserve}, "reserve1": "1"}}'
    )


@given(st.integers(min_value=0, max_value=UINT256_MAX))
@example(2**53 + 1)  # the first integer a float cannot hold
@example(UINT256_MAX)
def test_json_numbers_are_exact_or_refused_and_output_is_a_string(value: int) -> None:
    # a JSON integer is read exactly (never through a float); the output is a decimal string
    state = PoolStateV2.model_validate_json(v2_json(str(value)))
    assert state.reserve0 == value
    assert json.loads(state.model_dump_json())["reserve0"] == str(value)


@given(st.floats(allow_nan=False, allow_infinity=False))
@example(1.0)
@example(1e3)
def test_json_fractions_and_exponents_are_refused(value: float) -> None:
    with pytest.raises(ValidationError):
        PoolStateV2.model_validate_json(v2_json(json.dumps(value)))


@given(NEAR_ADDRESSES)
@example("0X" + "ab" * 20)
@example("0x" + "ab" * 20 + " ")
@example("0x" + "ab" * 19 + "a")
def test_address_accepts_exactly_0x_and_40_hex_digits(text: str) -> None:
    body = text[2:]
    valid = text.startswith("0x") and len(body) == 40 and all(c in string.hexdigits for c in body)
    if not valid:
        with pytest.raises(ValueError):
            parse_address(text)
        return
    checksummed = parse_address(text)
    assert checksummed.lower() == text.lower()
    assert is_checksum_address(checksummed)
    assert parse_address(checksummed) == checksummed  # idempotent
    assert parse_address("0x" + body.upper()) == checksummed == parse_address(text.lower())


@given(st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.text(), max_size=2)))
def test_address_refuses_what_is_not_a_string(value: object) -> None:
    with pytest.raises(ValueError):
        parse_address(value)
