"""The chance that a trade lands first, by its gas bid: assumed, or measured by paper trades.

A trade lands first when it executes on the state it was found in, ahead of the next block's
other swaps: the paper trader records it as landed with the executor's amount equal to the one
predicted at the block found. Landing late (landed, but after others moved the pools) or
reverting are the other outcomes.

The assumed model has two market regimes that persist (calm, contested), which is what makes
recent success informative. A model measured on paper trades (`titan paper-trades`, or `titan
replay`, which writes them beside its own file) is a logistic fit of landing first on the bid, one
regime: trades do not say which regime they met. The fitted slope is kept at zero or above: a
higher tip never puts a transaction later in a block.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

# Enough trades, at enough bids, to fit the slope on.
MIN_TRADES = 100
MIN_PER_BID = 20


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
class PaperOutcome:
    """A paper trade that was sent and settled: its bid, and how it landed."""

    bid: float
    first: bool
    landed: bool


def load_paper_trades(path: Path) -> list[PaperOutcome]:
    """The settled trades of a paper-trades file (the scanner's `GET /api/paper-trades` rows);
    trades never sent, or without a prediction to compare with, are left out."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for row in rows:
        if row["status"] not in ("landed", "reverted") or row["predicted_amount_out"] == "":
            continue
        landed = row["status"] == "landed"
        first = landed and row["realized_amount_out"] == row["predicted_amount_out"]
        out.append(PaperOutcome(float(row["gas_bid_multiplier"]), first, landed))
    return out


@dataclass(frozen=True)
class MeasuredLanding:
    model: LandingModel
    trades: int
    first_share_by_bid: dict[str, float]
    trades_by_bid: dict[str, int]


def fit_landing(trades: list[PaperOutcome]) -> MeasuredLanding | None:
    """The landing model the trades measure; None with too few trades or bids to fit on."""
    by_bid = Counter(t.bid for t in trades)
    bids = [bid for bid, n in by_bid.items() if n >= MIN_PER_BID]
    if len(trades) < MIN_TRADES or len(bids) < 2:
        return None
    x = np.array([[t.bid - 1.0] for t in trades])
    y = np.array([t.first for t in trades])
    fit = LogisticRegression(C=1e6).fit(x, y)  # next to no penalty: a plain maximum likelihood
    intercept, slope = float(fit.intercept_[0]), max(0.0, float(fit.coef_[0][0]))
    not_first = [t for t in trades if not t.first]
    late = sum(t.landed for t in not_first) / len(not_first) if not_first else 0.0
    model = LandingModel(
        calm_logit=intercept,
        contested_logit=intercept,
        bid_slope=slope,
        late_share=late,
        regime_switch=0.0,
    )
    share = {
        f"{bid:g}": sum(t.first for t in trades if t.bid == bid) / n for bid, n in by_bid.items()
    }
    return MeasuredLanding(model, len(trades), share, {f"{b:g}": n for b, n in by_bid.items()})
