"""Plain-Python reference math for Uniswap V2 and V3 pools: Python ints only, no I/O.

The engine (services/engine-rs) ports the same contracts; `shared/vectors/` holds the cases
both must agree on.
"""

from titan_common.pool_math import v2, v3
from titan_common.pool_math.errors import (
    InsufficientInputAmount,
    InsufficientLiquidity,
    InsufficientOutputAmount,
    InsufficientTickData,
    InvalidPriceLimit,
    InvalidTickData,
    LiquidityOverflow,
    MathOverflow,
    PoolMathError,
    ReserveOverflow,
    SqrtPriceOutOfRange,
    TickOutOfRange,
    ZeroAmount,
)
from titan_common.pool_math.v2 import get_amount_in, get_amount_out
from titan_common.pool_math.v3.swap import PoolState, SwapResult, swap

__all__ = [
    "InsufficientInputAmount",
    "InsufficientLiquidity",
    "InsufficientOutputAmount",
    "InsufficientTickData",
    "InvalidPriceLimit",
    "InvalidTickData",
    "LiquidityOverflow",
    "MathOverflow",
    "PoolMathError",
    "PoolState",
    "ReserveOverflow",
    "SqrtPriceOutOfRange",
    "SwapResult",
    "TickOutOfRange",
    "ZeroAmount",
    "get_amount_in",
    "get_amount_out",
    "swap",
    "v2",
    "v3",
]
