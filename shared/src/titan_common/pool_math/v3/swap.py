"""The swap loop of UniswapV3Pool.sol (v3-core `contracts/UniswapV3Pool.sol`, `swap`), over a
sorted list of initialized ticks instead of storage.

`TickBitmap.nextInitializedTickWithinOneWord` is emulated exactly (steps stop at 256-tick word
boundaries as in the contract, which matters for rounding). The ticks supplied are taken as
complete from the lowest to the highest one given, and nothing is assumed outside that span (also
where the current tick lies outside it). There a step ends at the nearest tick that could be
initialized (a multiple of the spacing within MIN_TICK..MAX_TICK), marked unknown: the amounts up
to it do not depend on the missing data and stay exact, and the swap raises `InsufficientTickData`
only if the price reaches that tick, since crossing it would need its `liquidityNet`. A swap that
ends before it (amount or price limit) is answered exactly, as is one past the last tick the
spacing allows. Protocol fees only change fee growth, not amounts, and are ignored.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from itertools import pairwise

from titan_common.pool_math.errors import (
    MAX_INT256,
    MAX_UINT128,
    InsufficientTickData,
    InvalidPriceLimit,
    InvalidTickData,
    LiquidityOverflow,
    MathOverflow,
    ZeroAmount,
)
from titan_common.pool_math.v3.swap_math import compute_swap_step
from titan_common.pool_math.v3.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)

__all__ = ["PoolState", "SwapResult", "next_initialized_tick_within_one_word", "swap"]


@dataclass(frozen=True)
class PoolState:
    """A V3 pool's swap-relevant state; `ticks` is sorted `(index, liquidity_net)`."""

    sqrt_price_x96: int
    tick: int
    liquidity: int
    fee: int
    tick_spacing: int
    ticks: tuple[tuple[int, int], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ticks", tuple((int(i), int(n)) for i, n in self.ticks))
        indices = [i for i, _ in self.ticks]
        if any(b <= a for a, b in pairwise(indices)):
            raise InvalidTickData("ticks must be sorted and unique")
        if self.tick_spacing <= 0 or any(i % self.tick_spacing for i in indices):
            raise InvalidTickData("tick indices must be multiples of tick_spacing")
        if any(i < MIN_TICK or i > MAX_TICK for i in indices):
            raise InvalidTickData("tick index out of range")


@dataclass(frozen=True)
class SwapResult:
    """Pool deltas (positive: into the pool) and the state after the swap."""

    amount0: int
    amount1: int
    sqrt_price_x96: int
    tick: int
    liquidity: int


INITIALIZED, UNINITIALIZED, UNKNOWN = "initialized", "uninitialized", "unknown"


def next_initialized_tick_within_one_word(
    indices: list[int], tick: int, tick_spacing: int, lte: bool
) -> tuple[int, str]:
    """TickBitmap.nextInitializedTickWithinOneWord over a sorted list of initialized ticks, taken
    as complete only from the lowest to the highest: outside that span, the nearest tick that
    could be initialized, `UNKNOWN`."""
    compressed = tick // tick_spacing  # floor, as the contract's truncate-then-decrement
    nearest = compressed * tick_spacing if lte else (compressed + 1) * tick_spacing
    if not MIN_TICK <= nearest <= MAX_TICK:
        return nearest, UNINITIALIZED
    if not indices or not indices[0] <= nearest <= indices[-1]:
        return nearest, UNKNOWN
    if lte:
        word_start = ((compressed >> 8) << 8) * tick_spacing
        found = indices[bisect_right(indices, nearest) - 1]
        if found >= word_start:
            return found, INITIALIZED
        return word_start, UNINITIALIZED
    word_end = ((((compressed + 1) >> 8) << 8) + 255) * tick_spacing
    found = indices[bisect_left(indices, nearest)]
    if found <= word_end:
        return found, INITIALIZED
    return word_end, UNINITIALIZED


def _add_delta(x: int, y: int) -> int:
    z = x + y
    if z < 0 or z > MAX_UINT128:
        raise LiquidityOverflow()
    return z


def swap(
    state: PoolState,
    zero_for_one: bool,
    amount_specified: int,
    sqrt_price_limit_x96: int | None = None,
) -> SwapResult:
    """UniswapV3Pool.swap: `amount_specified > 0` exact input, `< 0` exact output."""
    if amount_specified == 0:
        raise ZeroAmount()
    if not -MAX_INT256 <= amount_specified <= MAX_INT256:
        raise MathOverflow("amount_specified outside int256")
    if sqrt_price_limit_x96 is None:
        sqrt_price_limit_x96 = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
    limit, price = sqrt_price_limit_x96, state.sqrt_price_x96
    if zero_for_one:
        if not (MIN_SQRT_RATIO < limit < price):
            raise InvalidPriceLimit()
    elif not (price < limit < MAX_SQRT_RATIO):
        raise InvalidPriceLimit()
    exact_input = amount_specified > 0
    remaining, calculated = amount_specified, 0
    tick, liquidity = state.tick, state.liquidity
    indices = [i for i, _ in state.ticks]
    nets = dict(state.ticks)
    while remaining != 0 and price != limit:
        start = price
        tick_next, kind = next_initialized_tick_within_one_word(
            indices, tick, state.tick_spacing, zero_for_one
        )
        tick_next = max(MIN_TICK, min(MAX_TICK, tick_next))
        price_next = get_sqrt_ratio_at_tick(tick_next)
        use_limit = price_next < limit if zero_for_one else price_next > limit
        price, amount_in, amount_out, fee_amount = compute_swap_step(
            price, limit if use_limit else price_next, liquidity, remaining, state.fee
        )
        if exact_input:
            remaining -= amount_in + fee_amount
            calculated -= amount_out
        else:
            remaining += amount_out
            calculated += amount_in + fee_amount
        if price == price_next:
            if kind == UNKNOWN:
                raise InsufficientTickData()
            if kind == INITIALIZED:
                net = nets[tick_next]
                liquidity = _add_delta(liquidity, -net if zero_for_one else net)
            tick = tick_next - 1 if zero_for_one else tick_next
        elif price != start:
            tick = get_tick_at_sqrt_ratio(price)
    if zero_for_one == exact_input:
        amount0, amount1 = amount_specified - remaining, calculated
    else:
        amount0, amount1 = calculated, amount_specified - remaining
    return SwapResult(amount0, amount1, price, tick, liquidity)
