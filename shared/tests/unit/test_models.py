"""Wire models: big integers as decimal strings, checksummed addresses, versions on state."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from titan_common.models import (
    UINT256_MAX,
    PoolStateV2,
    PoolStateV3,
    PoolUpdate,
    parse_address,
    parse_int256,
    parse_uint256,
)

ADDR = "0x" + "ab" * 20


@given(st.integers(min_value=0, max_value=UINT256_MAX))
@example(0)
@example(1)
@example(UINT256_MAX)
def test_uint256_decimal_round_trip(value: int) -> None:
    assert parse_uint256(str(value)) == value
    state = PoolStateV2(
        address=ADDR,
        dex="uniswap_v2",
        token0=ADDR,
        token1=ADDR,
        reserve0=value,
        reserve1=str(value),
    )
    wire = state.model_dump(mode="json")
    assert wire["reserve0"] == str(value) == wire["reserve1"]
    assert PoolStateV2.model_validate(wire) == state


@pytest.mark.parametrize(
    "bad", ["-1", "1.0", "1e3", "0x10", " 1", "", str(UINT256_MAX + 1), 1.0, True, None, [1]]
)
def test_uint256_rejects_what_is_not_a_decimal_integer(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_uint256(bad)


@given(st.integers(min_value=-(2**255), max_value=2**255 - 1))
@example(-(2**255))
@example(2**255 - 1)
def test_int256_signed_round_trip(value: int) -> None:
    assert parse_int256(str(value)) == value


@given(st.binary(min_size=20, max_size=20))
def test_address_checksummed_in_any_case(raw: bytes) -> None:
    lower = "0x" + raw.hex()
    checksummed = parse_address(lower)
    assert checksummed.lower() == lower
    assert parse_address(lower.upper().replace("0X", "0x")) == checksummed


@pytest.mark.parametrize("bad", ["0x12", "ab" * 20, "0x" + "zz" * 20, 12, None, "0x" + "ab" * 21])
def test_address_rejects_malformed(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_address(bad)


def test_pool_update_discriminates_pool_kind_and_keeps_big_ints_exact() -> None:
    sqrt_price = 2**96 * 3 + 1
    wire = {
        "chain_id": 31337,
        "block_number": 12,
        "log_index": 3,
        "pool": {
            "kind": "v3",
            "address": ADDR,
            "dex": "uniswap_v3",
            "token0": ADDR,
            "token1": ADDR,
            "fee": 3000,
            "tick_spacing": 60,
            "sqrt_price_x96": str(sqrt_price),
            "tick": -120,
            "liquidity": "10",
            "ticks": [{"index": -120, "liquidity_net": "-5"}, {"index": 60, "liquidity_net": "5"}],
        },
    }
    update = PoolUpdate.model_validate(wire)
    assert isinstance(update.pool, PoolStateV3)
    assert update.pool.sqrt_price_x96 == sqrt_price
    assert update.pool.ticks[0].liquidity_net == -5
    assert update.model_dump(mode="json", exclude_none=True)["pool"] == {
        **wire["pool"],
        "address": parse_address(ADDR),
        "token0": parse_address(ADDR),
        "token1": parse_address(ADDR),
    }


def test_unknown_pool_kind_and_dex_are_rejected() -> None:
    with pytest.raises(ValidationError):
        PoolUpdate.model_validate(
            {"chain_id": 1, "block_number": 1, "log_index": 0, "pool": {"kind": "v4"}}
        )
    with pytest.raises(ValidationError):
        PoolStateV2(address=ADDR, dex="pancake", token0=ADDR, token1=ADDR, reserve0=1, reserve1=1)  # type: ignore[arg-type]
