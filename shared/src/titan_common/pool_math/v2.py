"""Uniswap V2 amounts, following v2-periphery `contracts/libraries/UniswapV2Library.sol`.

The fee is given in basis points. When it is a whole number of tenths of a percent (30 for
Uniswap V2, SushiSwap and QuickSwap) the per-mille form of the contract (997/1000) is used,
so that even the uint256 overflow bound matches; otherwise the per-10,000 form.
"""

from __future__ import annotations

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

__all__ = ["fee_factors", "get_amount_in", "get_amount_out"]


def fee_factors(fee_bps: int) -> tuple[int, int]:
    """(multiplier, base) of the fee: (997, 1000) for 30 bps, (9975, 10000) for 25 bps."""
    if not 0 <= fee_bps < 10_000:
        raise PoolMathError(f"fee_bps must be in [0, 10000), got {fee_bps}")
    if fee_bps % 10 == 0:
        return 1000 - fee_bps // 10, 1000
    return 10_000 - fee_bps, 10_000


def _check(value: int) -> int:
    if value > MAX_UINT256:
        raise MathOverflow()
    return value


def _check_reserves(reserve_in: int, reserve_out: int) -> None:
    if reserve_in > MAX_UINT112 or reserve_out > MAX_UINT112:
        raise ReserveOverflow()
    if reserve_in <= 0 or reserve_out <= 0:
        raise InsufficientLiquidity()


def get_amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int = 30) -> int:
    """getAmountOut: the output for `amount_in`, rounded down."""
    if amount_in < 0 or amount_in > MAX_UINT256:
        raise MathOverflow()
    if amount_in == 0:
        raise InsufficientInputAmount()
    _check_reserves(reserve_in, reserve_out)
    mult, base = fee_factors(fee_bps)
    amount_in_with_fee = _check(amount_in * mult)
    numerator = _check(amount_in_with_fee * reserve_out)
    denominator = _check(reserve_in * base + amount_in_with_fee)
    return numerator // denominator


def get_amount_in(amount_out: int, reserve_in: int, reserve_out: int, fee_bps: int = 30) -> int:
    """getAmountIn: the input needed for `amount_out`, rounded up (+1 as the contract does)."""
    if amount_out < 0 or amount_out > MAX_UINT256:
        raise MathOverflow()
    if amount_out == 0:
        raise InsufficientOutputAmount()
    _check_reserves(reserve_in, reserve_out)
    if amount_out >= reserve_out:
        raise InsufficientLiquidity()
    mult, base = fee_factors(fee_bps)
    numerator = _check(_check(reserve_in * amount_out) * base)
    denominator = (reserve_out - amount_out) * mult
    return _check(numerator // denominator + 1)
