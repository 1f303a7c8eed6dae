"""Cheap screening: a cycle is worth an exact evaluation only if, at the margin, it gains.

For a cycle of concave swaps, a profitable input exists only if the product of the marginal
rates after fees exceeds 1. The rates are kept as logarithms per pool and direction, so a
cycle's edge is a sum of two or three floats and thousands are screened in one numpy step.
Floats live here and only here: they decide what to ask the engine, never an amount.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from titan_common.models import PoolStateV2, PoolStateV3
from titan_scanner.cycles.index import Cycle, CycleHop

_LOG_Q96 = 96 * math.log(2)
_UNUSABLE = -math.inf
IdArray = npt.NDArray[np.int64]
_NO_IDS: IdArray = np.zeros(0, dtype=np.int64)


def log_rates(state: PoolStateV2 | PoolStateV3) -> tuple[float, float]:
    """log of the marginal output per unit input after fees: (zero-for-one, one-for-zero)."""
    if isinstance(state, PoolStateV2):
        if state.reserve0 == 0 or state.reserve1 == 0:
            return _UNUSABLE, _UNUSABLE
        keep = math.log1p(-state.fee_bps / 10_000)
        log_p = math.log(state.reserve1) - math.log(state.reserve0)
    else:
        if state.liquidity == 0 or state.sqrt_price_x96 == 0:
            return _UNUSABLE, _UNUSABLE
        keep = math.log1p(-state.fee / 1_000_000)
        log_p = 2 * (math.log(state.sqrt_price_x96) - _LOG_Q96)
    return log_p + keep, -log_p + keep


class Screener:
    """Marginal log-rates of every pool's two directions, and every cycle's edges into them."""

    def __init__(self, min_log_edge: float = 0.0) -> None:
        self.min_log_edge = min_log_edge
        self._slot: dict[str, int] = {}
        # Edge 2*slot is zero-for-one, 2*slot+1 the other way; slot 0 pads 2-hop cycles.
        self._rates = np.zeros(64, dtype=np.float64)
        self._rows = array("q")  # three edge ids per cycle, flat
        self._edge_of: dict[CycleHop, int] = {}
        self._edges = np.zeros((0, 3), dtype=np.int64)
        self._by_pool: defaultdict[str, list[int]] = defaultdict(list)
        self._by_pool_arrays: dict[str, IdArray] = {}  # read-side copies of _by_pool

    def __len__(self) -> int:
        return len(self._rows) // 3

    def _slot_of(self, pool: str) -> int:
        slot = self._slot.get(pool)
        if slot is None:
            slot = len(self._slot) + 1
            self._slot[pool] = slot
            if 2 * slot + 2 > len(self._rates):
                grown = np.full(len(self._rates) * 2, _UNUSABLE, dtype=np.float64)
                grown[: len(self._rates)] = self._rates
                self._rates = grown
            self._rates[2 * slot : 2 * slot + 2] = _UNUSABLE
        return slot

    def add_cycles(self, cycles: Iterable[Cycle]) -> None:
        """Register cycles; their ids must continue the index's numbering."""
        rows, by_pool, edge_of = self._rows, self._by_pool, self._edge_of
        for cycle in cycles:
            cid, hops = cycle.id, cycle.hops
            if cid != len(rows) // 3:
                raise ValueError(f"cycle {cid} added out of order")
            for hop in hops:
                edge = edge_of.get(hop)
                if edge is None:
                    edge = 2 * self._slot_of(hop.pool) + (0 if hop.zero_for_one else 1)
                    edge_of[hop] = edge
                rows.append(edge)
                by_pool[hop.pool].append(cid)
            if len(hops) == 2:
                rows.append(0)

    def update_pool(self, state: PoolStateV2 | PoolStateV3) -> None:
        slot = self._slot_of(state.address)
        forward, backward = log_rates(state)
        self._rates[2 * slot] = forward
        self._rates[2 * slot + 1] = backward

    def _edge_matrix(self) -> npt.NDArray[np.int64]:
        if len(self._edges) != len(self):
            self._edges = np.frombuffer(self._rows, dtype=np.int64).reshape(-1, 3).copy()
        return self._edges

    def _ids_of(self, pool: str) -> IdArray:
        ids = self._by_pool.get(pool)
        if not ids:
            return _NO_IDS
        cached = self._by_pool_arrays.get(pool)
        if cached is None or len(cached) != len(ids):  # ids only ever grow
            cached = np.array(ids, dtype=np.int64)
            self._by_pool_arrays[pool] = cached
        return cached

    def cycles_touching(self, pools: Iterable[str]) -> IdArray:
        """Ids of the cycles through any of `pools`, each once, ascending."""
        arrays = [self._ids_of(pool) for pool in pools]
        if not arrays:
            return np.zeros(0, dtype=np.int64)
        ids = np.concatenate(arrays)
        if 16 * len(ids) < len(self):
            return np.unique(ids)
        # Many pools: marking the ids is linear, where np.unique sorts.
        seen = np.zeros(len(self), dtype=np.bool_)
        seen[ids] = True
        return np.flatnonzero(seen)

    def log_edges(self, ids: IdArray) -> npt.NDArray[np.float64]:
        edges = self._edge_matrix()[ids]
        result: npt.NDArray[np.float64] = self._rates[edges].sum(axis=1)
        return result

    def screen(self, ids: IdArray) -> IdArray:
        """The ids among `ids` whose marginal edge passes, the most promising first."""
        if len(ids) == 0:
            return ids
        edges = self.log_edges(ids)
        passing = edges > self.min_log_edge
        chosen = ids[passing]
        order = np.argsort(-edges[passing], kind="stable")
        result: IdArray = chosen[order]
        return result
