"""Net profit and the rule for publishing: strictly positive and at least `MIN_PROFIT`."""

from __future__ import annotations


def net_profit(gross_profit: int, gas_cost: int) -> int:
    return gross_profit - gas_cost


def publishable(net: int, min_profit: int) -> bool:
    """Never a loss, never below the threshold; a zero net is no opportunity."""
    return net > 0 and net >= min_profit
