"""Errors of the reference pool math: one class per contract revert, each with a stable wire code.

PoolMathError
├── InsufficientInputAmount      V2 getAmountOut with amountIn == 0
├── InsufficientOutputAmount     V2 getAmountIn with amountOut == 0
├── InsufficientLiquidity        V2 zero reserve or output at/above the reserve
├── ReserveOverflow              V2 reserve above uint112
├── MathOverflow                 a uint256/int256/uint160/uint128 bound or a division by zero
├── ZeroAmount                   V3 swap with amountSpecified == 0 ('AS')
├── InvalidPriceLimit            V3 price limit on the wrong side or out of range ('SPL')
├── TickOutOfRange               |tick| > MAX_TICK ('T')
├── SqrtPriceOutOfRange          sqrtPriceX96 outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO) ('R')
├── LiquidityOverflow            LiquidityMath.addDelta under/overflow ('LS'/'LA')
├── InvalidTickData              ticks unsorted, duplicated or not multiples of the spacing
└── InsufficientTickData         the swap would run past the ticks supplied
"""

from __future__ import annotations


class PoolMathError(Exception):
    code = "pool_math_error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.code.replace("_", " "))


class InsufficientInputAmount(PoolMathError):
    code = "insufficient_input_amount"


class InsufficientOutputAmount(PoolMathError):
    code = "insufficient_output_amount"


class InsufficientLiquidity(PoolMathError):
    code = "insufficient_liquidity"


class ReserveOverflow(PoolMathError):
    code = "reserve_overflow"


class MathOverflow(PoolMathError):
    code = "math_overflow"


class ZeroAmount(PoolMathError):
    code = "zero_amount"


class InvalidPriceLimit(PoolMathError):
    code = "invalid_price_limit"


class TickOutOfRange(PoolMathError):
    code = "tick_out_of_range"


class SqrtPriceOutOfRange(PoolMathError):
    code = "sqrt_price_out_of_range"


class LiquidityOverflow(PoolMathError):
    code = "liquidity_overflow"


class InvalidTickData(PoolMathError):
    code = "invalid_tick_data"


class InsufficientTickData(PoolMathError):
    code = "insufficient_tick_data"


MAX_UINT256 = (1 << 256) - 1
MAX_UINT160 = (1 << 160) - 1
MAX_UINT128 = (1 << 128) - 1
MAX_UINT112 = (1 << 112) - 1
MAX_INT256 = (1 << 255) - 1
MIN_INT256 = -(1 << 255)
