"""Uniswap V3 reference math, one module per v3-core library, plus the pool's swap loop."""

from titan_common.pool_math.v3.swap import PoolState, SwapResult, swap

__all__ = ["PoolState", "SwapResult", "swap"]
