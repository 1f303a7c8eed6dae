"""The agent's view of an opportunity: four buckets, and the action grid it chooses from.

State = (spread, size, gas share, recent success). Spread is gross profit over size after pool
fees (bps); size is the input in base-token units; gas share is the gas cost at a 1.0 bid over
the gross profit, the gas level as the opportunity feels it; recent success is the share of
the last attempts that landed first; with no attempts yet it counts as one half, so an agent
that skips does not lock itself in a state it never trained in.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

SPREAD_EDGES_BPS = (5.0, 15.0, 30.0, 50.0)
SIZE_EDGES = (2.0, 8.0, 32.0)  # base-token units (WETH)
GAS_SHARE_EDGES = (0.25, 0.5, 1.0)
SUCCESS_BUCKETS = 2  # 0 below half, 1 half or more; no history counts as half

SIZE_FRACTIONS = (0.25, 0.5, 1.0)
BID_MULTIPLIERS = (1.0, 1.25, 1.5)


@dataclass(frozen=True)
class Action:
    execute: bool
    size_fraction: float
    gas_bid_multiplier: float

    @cached_property  # asked for every action of every state the service answers
    def name(self) -> str:
        if not self.execute:
            return "skip"
        return f"execute_{self.size_fraction:g}_{self.gas_bid_multiplier:g}"


ACTIONS: tuple[Action, ...] = (
    Action(False, 0.0, 1.0),
    *(Action(True, f, b) for f in SIZE_FRACTIONS for b in BID_MULTIPLIERS),
)
State = tuple[int, int, int, int]
STATE_SHAPE = (
    len(SPREAD_EDGES_BPS) + 1,
    len(SIZE_EDGES) + 1,
    len(GAS_SHARE_EDGES) + 1,
    SUCCESS_BUCKETS,
)


def part_of(amount: int, fraction: float) -> int:
    """`amount * fraction` rounded down, exactly (amounts in wei pass 2**53, floats do not)."""
    ratio = Fraction(fraction)
    return amount * ratio.numerator // ratio.denominator


def success_bucket(recent_success: float | None) -> int:
    if recent_success is None:
        return 1
    return 0 if recent_success < 0.5 else 1


def discretise(
    spread_bps: float,
    size: float,
    gas_cost: float,
    gross_profit: float,
    recent_success: float | None,
) -> State:
    """Buckets of one opportunity; gas share is infinite when there is no gross profit."""
    share = gas_cost / gross_profit if gross_profit > 0 else float("inf")
    return (
        bisect.bisect_right(SPREAD_EDGES_BPS, spread_bps),
        bisect.bisect_right(SIZE_EDGES, size),
        bisect.bisect_right(GAS_SHARE_EDGES, share),
        success_bucket(recent_success),
    )


def state_key(state: State) -> str:
    return ",".join(str(s) for s in state)
