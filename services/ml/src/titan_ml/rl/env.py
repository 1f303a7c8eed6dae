"""The replay environment: real opportunities, real base fees, a modelled chance to land.

Each step is one opportunity from the pool replay. Executing pays gas at the block's base fee
(from the real base-fee series) times the bid multiplier. The landing model is an assumption,
not data: a trade lands first with a probability rising with the bid and falling when the
market is contested (a two-state regime that persists, which is what makes recent success
informative). First: the exact round-trip profit at the observed states. Not first: half the
time it lands one event late against the next real states (profit may be negative), otherwise
it reverts and still pays the revert's gas.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from titan_ml.rl.market import Opportunity, round_trip
from titan_ml.rl.state import Action, State, discretise

GAS_UNITS = 230_000  # two V3 swaps in one transaction
REVERT_GAS_UNITS = 60_000
WEI = 1e18


@dataclass(frozen=True)
class LandingModel:
    calm_logit: float = 0.4  # P(first) ~ 0.60 at a 1.0 bid when calm
    contested_logit: float = -0.85  # ~ 0.30 when contested
    bid_slope: float = 2.8  # per unit of bid multiplier above 1.0
    late_share: float = 0.5  # of the trades not first, the share that lands one event late
    regime_switch: float = 0.15  # chance per opportunity that the regime flips

    def p_first(self, bid: float, contested: bool) -> float:
        logit = (self.contested_logit if contested else self.calm_logit) + self.bid_slope * (
            bid - 1.0
        )
        return 1.0 / (1.0 + math.exp(-logit))


@dataclass(frozen=True)
class Outcome:
    reward_eth: float
    landed: bool


class ArbitrageEnv:
    """Opportunities in time order, their blocks' base fees, and the landing model."""

    def __init__(
        self,
        opportunities: list[Opportunity],
        base_fees: dict[int, float],
        landing: LandingModel | None = None,
    ) -> None:
        self.opportunities = opportunities
        self.base_fees = base_fees
        self.landing = landing or LandingModel()

    def base_fee(self, opp: Opportunity) -> float:
        return self.base_fees[opp.block_number]

    def state(self, opp: Opportunity, recent: deque[bool]) -> State:
        gas_cost = GAS_UNITS * self.base_fee(opp)
        success = (sum(recent) / len(recent)) if recent else None
        return discretise(
            opp.spread_bps, opp.size_wei / WEI, gas_cost, float(opp.gross_wei), success
        )

    def step(
        self, opp: Opportunity, action: Action, contested: bool, rng: np.random.Generator
    ) -> Outcome:
        if not action.execute:
            return Outcome(0.0, False)
        price = self.base_fee(opp) * action.gas_bid_multiplier
        size = max(int(opp.size_wei * action.size_fraction), 1)
        draw = rng.random()
        p_first = self.landing.p_first(action.gas_bid_multiplier, contested)
        if draw < p_first:
            gross = round_trip(opp.now, opp.sell_pool, size)
            return Outcome(((gross or 0) - GAS_UNITS * price) / WEI, True)
        late = draw < p_first + (1 - p_first) * self.landing.late_share
        if late and opp.late is not None:
            gross = round_trip(opp.late, opp.sell_pool, size)
            if gross is not None:
                return Outcome((gross - GAS_UNITS * price) / WEI, False)
        return Outcome(-REVERT_GAS_UNITS * price / WEI, False)

    def regimes(self, rng: np.random.Generator) -> list[bool]:
        """The contested flag per opportunity for one episode."""
        contested = bool(rng.random() < 0.5)
        out = []
        for _ in self.opportunities:
            if rng.random() < self.landing.regime_switch:
                contested = not contested
            out.append(contested)
        return out
