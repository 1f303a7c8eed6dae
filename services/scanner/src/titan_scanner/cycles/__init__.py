"""Arbitrage cycles: the index of every cycle through each pool, and their cheap screening."""

from titan_scanner.cycles.index import Cycle, CycleHop, CycleIndex, shard_of
from titan_scanner.cycles.screen import Screener

__all__ = ["Cycle", "CycleHop", "CycleIndex", "Screener", "shard_of"]
