"""The replay environment: real opportunities, real base fees, a modelled chance to land.

Each step is one opportunity of a replay (`Opportunity`). Executing pays its gas at the base
fee of its block (or the price the scanner priced it at) times the bid multiplier. The landing
model (`landing.py`) is assumed, or measured by paper trades on the market's own chain: a trade
lands first with a probability rising with the bid and, in the assumed model, falling when the
market is contested (a two-state regime that persists, which is what makes recent success
informative). First: the exact profit at the observed state. Not first: in a share of the
cases (`late_share`, half in the assumed model) it lands one step late against the next real
state (profit may be negative), otherwise it reverts and still pays the revert's gas. A trade
the replay found would revert does too.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from titan_ml.rl.landing import LandingModel
from titan_ml.rl.opportunity import Opportunity
from titan_ml.rl.state import SIZE_FRACTIONS, Action, State, discretise

REVERT_GAS_UNITS = 60_000
WEI = 1e18


@dataclass(frozen=True)
class Outcome:
    reward_eth: float
    landed: bool


class ArbitrageEnv:
    """Opportunities in time order and the landing model."""

    def __init__(
        self, opportunities: list[Opportunity], landing: LandingModel | None = None
    ) -> None:
        self.opportunities = opportunities
        self.landing = landing or LandingModel()

    def state(self, opp: Opportunity, recent: deque[bool]) -> State:
        gas_cost = opp.gas_units * opp.gas_price_wei
        success = (sum(recent) / len(recent)) if recent else None
        return discretise(
            opp.spread_bps, opp.size_wei / WEI, gas_cost, float(opp.gross_wei), success
        )

    def step(
        self, opp: Opportunity, action: Action, contested: bool, rng: np.random.Generator
    ) -> Outcome:
        # drawn whatever the action, so every policy run on one seed meets the same dice at
        # each opportunity: a skip no longer shifts the draws of the trades after it
        draw = rng.random()
        if not action.execute:
            return Outcome(0.0, False)
        price = opp.gas_price_wei * action.gas_bid_multiplier
        part = SIZE_FRACTIONS.index(action.size_fraction)
        p_first = self.landing.p_first(action.gas_bid_multiplier, contested)
        if draw < p_first:
            gross = opp.first[part]
            if gross is not None:
                return Outcome((gross - opp.gas_units * price) / WEI, True)
        elif draw < p_first + (1 - p_first) * self.landing.late_share and opp.late is not None:
            gross = opp.late[part]
            if gross is not None:
                return Outcome((gross - opp.gas_units * price) / WEI, False)
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
