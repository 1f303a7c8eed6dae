"""Exact Uniswap V3 pricing of a swap that stays inside the current tick-spacing band.

The pool files carry the active liquidity but no tick map, so only a swap that ends before the
next multiple of the tick spacing (where the next initialized tick could be) is exact; a larger
one is refused (None). One step of SwapMath.computeSwapStep (v3-core `SwapMath.sol`, ported in
`titan_common.pool_math`) prices it; this function is the one place to swap the pricing.
"""

from __future__ import annotations

from dataclasses import dataclass

from titan_common.pool_math.v3.swap_math import compute_swap_step
from titan_common.pool_math.v3.tick_math import get_sqrt_ratio_at_tick

Q96 = 1 << 96


@dataclass(frozen=True)
class PoolSnapshot:
    """A V3 pool's swap-relevant state after one event."""

    sqrt_price_x96: int
    tick: int
    liquidity: int
    fee: int  # pips, 500 = 0.05 %
    tick_spacing: int


def band_edge(pool: PoolSnapshot, zero_for_one: bool) -> int:
    """The sqrt price where the current tick-spacing band ends in the swap's direction."""
    lower = (pool.tick // pool.tick_spacing) * pool.tick_spacing
    return int(get_sqrt_ratio_at_tick(lower if zero_for_one else lower + pool.tick_spacing))


def quote_exact_input(pool: PoolSnapshot, zero_for_one: bool, amount_in: int) -> int | None:
    """The output of an exact-input swap, or None when it would leave the exact band."""
    if amount_in <= 0 or pool.liquidity <= 0:
        return None
    edge = band_edge(pool, zero_for_one)
    if (edge >= pool.sqrt_price_x96) if zero_for_one else (edge <= pool.sqrt_price_x96):
        return None
    nxt, used, out, fee = compute_swap_step(
        pool.sqrt_price_x96, edge, pool.liquidity, amount_in, pool.fee
    )
    if nxt == edge and used + fee < amount_in:
        return None  # the band ran out before the input did
    return int(out)


def price_token1_per_token0(pool: PoolSnapshot) -> float:
    return (pool.sqrt_price_x96 / Q96) ** 2
