"""Laws of the V2 reference math (UniswapV2Library.sol)."""

import contextlib

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from titan_common.pool_math import v2
from titan_common.pool_math.errors import (
    MAX_UINT112,
    MAX_UINT256,
    InsufficientInputAmount,
    InsufficientLiquidity,
    InsufficientOutputAmount,
    MathOverflow,
    PoolMathError,
    ReserveOverflow,
)

reserves = st.integers(1, MAX_UINT112)
amounts = st.integers(1, 1 << 200)


def test_known_value() -> None:
    # 1 ETH into a 100/200_000 pool: the classic example, 997/1000 fee
    assert v2.get_amount_out(10**18, 100 * 10**18, 200_000 * 10**18) == 1974316068794122597700


def test_fee_factors() -> None:
    assert v2.fee_factors(30) == (997, 1000)
    assert v2.fee_factors(25) == (9975, 10000)


@given(amounts, reserves, reserves)
@example(1, 1, 1)
@example(MAX_UINT256, MAX_UINT112, MAX_UINT112)
def test_out_below_reserve_and_monotone(amount_in: int, r_in: int, r_out: int) -> None:
    try:
        out = v2.get_amount_out(amount_in, r_in, r_out)
    except MathOverflow:
        return
    assert 0 <= out < r_out
    with contextlib.suppress(MathOverflow):
        assert v2.get_amount_out(amount_in + 1, r_in, r_out) >= out


@given(amounts, reserves, reserves)
@example(2, 2, 2)
def test_amount_in_covers_amount_out(amount_out: int, r_in: int, r_out: int) -> None:
    try:
        needed = v2.get_amount_in(amount_out, r_in, r_out)
        assert v2.get_amount_out(needed, r_in, r_out) >= amount_out
    except (InsufficientLiquidity, MathOverflow):
        return


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: v2.get_amount_out(0, 1, 1), InsufficientInputAmount),
        (lambda: v2.get_amount_in(0, 1, 1), InsufficientOutputAmount),
        (lambda: v2.get_amount_out(1, 0, 1), InsufficientLiquidity),
        (lambda: v2.get_amount_in(10, 100, 10), InsufficientLiquidity),
        (lambda: v2.get_amount_out(1, MAX_UINT112 + 1, 1), ReserveOverflow),
        (lambda: v2.get_amount_out(MAX_UINT256, 1, 1), MathOverflow),
        (lambda: v2.fee_factors(10_000), PoolMathError),
    ],
)
def test_reverts(call, error) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error):
        call()
