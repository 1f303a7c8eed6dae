"""What the agent trades: an opportunity as found, and what each size fraction pays.

Both markets the agent learns from give the same thing: the real pool replay (`market`) and the
scanner's opportunities replayed on the chain that found them (`replay`). For every size
fraction of the action grid, the gross profit when the trade lands first (at the state it was
found in) and when it lands one step late (after the next event or block), in wei of the base
token; None where that trade would revert.
"""

from __future__ import annotations

from dataclasses import dataclass

from titan_ml.rl.state import SIZE_FRACTIONS

GAS_UNITS = 230_000  # two V3 swaps in one transaction: a trade's gas when nothing says more


@dataclass(frozen=True)
class Opportunity:
    block_number: int
    size_wei: int  # the input found best
    gross_wei: int  # its gross profit, landing first
    gas_units: int  # of the trade's transaction
    gas_price_wei: float  # at a 1.0 bid: the base fee, or the scanner's forecast price
    first: tuple[int | None, ...]  # gross profit at each of SIZE_FRACTIONS, landing first
    late: tuple[int | None, ...] | None  # landing one step late; None: no later state known

    def __post_init__(self) -> None:
        for outcomes in (self.first, self.late):
            if outcomes is not None and len(outcomes) != len(SIZE_FRACTIONS):
                raise ValueError(f"one outcome per size fraction {SIZE_FRACTIONS}: {outcomes}")

    @property
    def spread_bps(self) -> float:
        """Gross profit over size, after pool fees, before gas."""
        return self.gross_wei / self.size_wei * 1e4
