"""Exact Uniswap V3 pricing of a swap that stays inside the current tick-spacing band.

The pool files carry the active liquidity but no tick map, so only a swap that ends before the
next multiple of the tick spacing (where the next initialized tick could be) is exact; a larger
one is refused (None). One step of SwapMath.computeSwapStep (v3-core `SwapMath.sol`) prices it:
`titan_common.pool_math` when it is installed, else the small port below.
"""

from __future__ import annotations

from dataclasses import dataclass

Q96 = 1 << 96

try:  # the shared reference math, when present
    from titan_common.pool_math.v3.swap_math import compute_swap_step as _shared_step
    from titan_common.pool_math.v3.tick_math import get_sqrt_ratio_at_tick as _shared_tick
except ImportError:  # pragma: no cover - depends on the shared package's version
    _shared_step = None
    _shared_tick = None


@dataclass(frozen=True)
class PoolSnapshot:
    """A V3 pool's swap-relevant state after one event."""

    sqrt_price_x96: int
    tick: int
    liquidity: int
    fee: int  # pips, 500 = 0.05 %
    tick_spacing: int


def _div_up(a: int, b: int) -> int:
    return -(-a // b)


def _amount0_delta(sa: int, sb: int, liquidity: int, round_up: bool) -> int:
    sa, sb = min(sa, sb), max(sa, sb)
    num1, num2 = liquidity << 96, sb - sa
    if round_up:
        return _div_up(_div_up(num1 * num2, sb), sa)
    return (num1 * num2 // sb) // sa


def _amount1_delta(sa: int, sb: int, liquidity: int, round_up: bool) -> int:
    sa, sb = min(sa, sb), max(sa, sb)
    return _div_up(liquidity * (sb - sa), Q96) if round_up else liquidity * (sb - sa) // Q96


def _next_sqrt_from_input(sqrt_p: int, liquidity: int, amount: int, zero_for_one: bool) -> int:
    if zero_for_one:  # getNextSqrtPriceFromAmount0RoundingUp, adding
        num = liquidity << 96
        return _div_up(num * sqrt_p, num + amount * sqrt_p)
    return sqrt_p + (amount << 96) // liquidity  # getNextSqrtPriceFromAmount1RoundingDown


def _port_step(
    cur: int, target: int, liquidity: int, remaining: int, fee: int
) -> tuple[int, int, int, int]:
    """computeSwapStep for exact input only (what the environment needs)."""
    zero_for_one = cur >= target
    less_fee = remaining * (1_000_000 - fee) // 1_000_000
    amount_in = (
        _amount0_delta(target, cur, liquidity, True)
        if zero_for_one
        else _amount1_delta(cur, target, liquidity, True)
    )
    nxt = (
        target
        if less_fee >= amount_in
        else _next_sqrt_from_input(cur, liquidity, less_fee, zero_for_one)
    )
    at_max = nxt == target
    if not at_max:
        amount_in = (
            _amount0_delta(nxt, cur, liquidity, True)
            if zero_for_one
            else _amount1_delta(cur, nxt, liquidity, True)
        )
    amount_out = (
        _amount1_delta(nxt, cur, liquidity, False)
        if zero_for_one
        else _amount0_delta(cur, nxt, liquidity, False)
    )
    fee_amount = remaining - amount_in if not at_max else _div_up(amount_in * fee, 1_000_000 - fee)
    return nxt, amount_in, amount_out, fee_amount


def _sqrt_at_tick(tick: int) -> int:
    if _shared_tick is not None:
        return int(_shared_tick(tick))
    return int((1.0001 ** (tick / 2)) * Q96)  # pragma: no cover - float fallback, edge only


def band_edge(pool: PoolSnapshot, zero_for_one: bool) -> int:
    """The sqrt price where the current tick-spacing band ends in the swap's direction."""
    lower = (pool.tick // pool.tick_spacing) * pool.tick_spacing
    return _sqrt_at_tick(lower if zero_for_one else lower + pool.tick_spacing)


def quote_exact_input(pool: PoolSnapshot, zero_for_one: bool, amount_in: int) -> int | None:
    """The output of an exact-input swap, or None when it would leave the exact band."""
    if amount_in <= 0 or pool.liquidity <= 0:
        return None
    edge = band_edge(pool, zero_for_one)
    if (edge >= pool.sqrt_price_x96) if zero_for_one else (edge <= pool.sqrt_price_x96):
        return None
    step = _shared_step or _port_step
    nxt, used, out, fee = step(pool.sqrt_price_x96, edge, pool.liquidity, amount_in, pool.fee)
    if nxt == edge and used + fee < amount_in:
        return None  # the band ran out before the input did
    return int(out)


def price_token1_per_token0(pool: PoolSnapshot) -> float:
    return (pool.sqrt_price_x96 / Q96) ** 2
