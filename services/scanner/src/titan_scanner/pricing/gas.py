"""Gas cost of a cycle, in integers: units per hop kind x gas price, in the profit token.

The price is the forecast base fee of the next block plus a priority fee, times the bid
multiplier the policy chose (kept to three decimals, applied as an integer ratio). The cost
in wei of the native token is converted into the base token through the deepest pool
between the two, at its exact mid price, rounded up: a cost is never understated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from titan_common.models import PoolStateV2, PoolStateV3
from titan_scanner.graph.tokens import TokenGraph

Q192 = 1 << 192


@dataclass(frozen=True, slots=True)
class GasUnits:
    base: int
    v2_hop: int
    v3_hop: int

    def of(self, kinds: Iterable[str]) -> int:
        return self.base + sum(self.v2_hop if kind == "v2" else self.v3_hop for kind in kinds)


@dataclass(frozen=True, slots=True)
class GasQuote:
    """The gas price for the next block, and where it came from."""

    block_number: int  # the block after which it applies
    base_fee_wei: int
    priority_fee_wei: int
    source: str  # "ml", "ml_stale", "fee_history", "gas_price", "none"
    stale: bool = False

    @property
    def price_wei(self) -> int:
        return self.base_fee_wei + self.priority_fee_wei


def _bid_milli(multiplier: float) -> int:
    """The bid multiplier as an integer ratio over 1000."""
    return max(1, round(multiplier * 1000))


def apply_bid(price_wei: int, multiplier: float) -> int:
    """The gas price after the policy's bid multiplier, rounded up."""
    return -(-price_wei * _bid_milli(multiplier) // 1000)


def without_bid(price_wei: int, multiplier: float) -> int:
    """The price before `apply_bid` (the same or a wei less: that rounded up)."""
    return price_wei * 1000 // _bid_milli(multiplier)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _depth(state: PoolStateV2 | PoolStateV3, token: str) -> int:
    """How much of `token` the pool holds, roughly, to choose the deepest converter."""
    if isinstance(state, PoolStateV2):
        return state.reserve0 if token == state.token0 else state.reserve1
    # Virtual reserves of a V3 pool: L / sqrtP in token0, L * sqrtP in token1 (in Q96 units).
    if state.sqrt_price_x96 == 0:
        return 0
    if token == state.token0:
        return (state.liquidity << 96) // state.sqrt_price_x96
    return (state.liquidity * state.sqrt_price_x96) >> 96


def convert(amount: int, token_in: str, state: PoolStateV2 | PoolStateV3) -> int | None:
    """`amount` of `token_in` in the pool's other token at the mid price, rounded up."""
    if isinstance(state, PoolStateV2):
        held_in, held_out = (
            (state.reserve0, state.reserve1)
            if token_in == state.token0
            else (state.reserve1, state.reserve0)
        )
        return None if held_in == 0 else _ceil_div(amount * held_out, held_in)
    price_x192 = state.sqrt_price_x96 * state.sqrt_price_x96  # token1 per token0, Q192
    if price_x192 == 0:
        return None
    if token_in == state.token0:
        return _ceil_div(amount * price_x192, Q192)
    return _ceil_div(amount * Q192, price_x192)


def native_to_token(
    amount_wei: int,
    native: str,
    token: str,
    graph: TokenGraph,
    states: Mapping[str, PoolStateV2 | PoolStateV3],
) -> int | None:
    """`amount_wei` of the native token in `token`, through the deepest pool; None if none."""
    if token == native:
        return amount_wei
    best: PoolStateV2 | PoolStateV3 | None = None
    for address in graph.pools_between(native, token):
        state = states.get(address)
        if state is not None and (best is None or _depth(state, native) > _depth(best, native)):
            best = state
    if best is None or _depth(best, native) == 0:
        return None
    return convert(amount_wei, native, best)
