"""Per-block coalescing: the pools changed in a block are gathered and evaluated once.

A block's batch closes on ingest's marker of that block (every update of it has arrived),
when an update of a newer block arrives, or, for an ingest that sends no markers, after a
fallback timeout. Each cycle is evaluated at most once per block: cycles touched again by a
late update of a block already evaluated wait for the next block's batch. A closed batch is
captured as a `BlockJob`; when the decision worker falls behind, `merge_jobs` folds the older
jobs into the newest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from titan_scanner.cycles import Cycle
from titan_scanner.cycles.screen import IdArray
from titan_scanner.pipeline.state import PoolState


@dataclass(slots=True)
class PendingBlock:
    block_number: int
    pools: set[str] = field(default_factory=set)
    received_at: float | None = None  # earliest arrival at ingest of this block (head or log)
    updates: int = 0
    # holds a new connection's snapshot: its arrival times are those of ingest's reads, not of
    # a block, so its opportunities have no block latency to count
    resync: bool = False

    def arrived(self, received_at: float | None) -> None:
        """Note an arrival time at ingest of this block's head or one of its logs."""
        if received_at is not None and (self.received_at is None or received_at < self.received_at):
            self.received_at = received_at


class BlockCoalescer:
    """Gathers changed pools per block and remembers which cycles each block evaluated."""

    def __init__(self) -> None:
        self.pending: PendingBlock | None = None
        self._last_block = np.zeros(0, dtype=np.int64)  # per cycle id: last block evaluated
        self._deferred: set[str] = set()

    def add(
        self, pool: str, block_number: int, received_at: float | None, resync: bool = False
    ) -> bool:
        """Note a changed pool in the pending batch (`resync`: from a new connection's
        snapshot); True when this opened the batch."""
        opened = self.pending is None
        if self.pending is None:
            self.pending = PendingBlock(block_number)
        pending = self.pending
        pending.block_number = max(pending.block_number, block_number)
        pending.pools.add(pool)
        pending.updates += 1
        pending.arrived(received_at)
        pending.resync |= resync
        return opened

    def rewind(self, block_number: int) -> None:
        """A rollback: the open batch's states are now those of `block_number`, older than
        the block it was opened for."""
        if self.pending is not None:
            self.pending.block_number = min(self.pending.block_number, block_number)

    def take(self) -> PendingBlock | None:
        """Close the pending batch (if any), with the pools deferred from earlier blocks."""
        pending, self.pending = self.pending, None
        if pending is not None and self._deferred:
            pending.pools |= self._deferred
            self._deferred = set()
        return pending

    def hold(self) -> PendingBlock | None:
        """Drop the open batch unpriced, its pools deferred to the next batch: its block may
        lack logs that will never come (the link to ingest was lost in the middle of it)."""
        pending, self.pending = self.pending, None
        if pending is not None:
            self._deferred |= pending.pools
        return pending

    def claim(
        self, ids: IdArray, block_number: int, pools_of: Callable[[int], tuple[str, ...]]
    ) -> IdArray:
        """The ids not yet evaluated at `block_number`, now marked as evaluated there.

        The others are deferred: their pools go into the next block's batch.
        """
        if len(ids) == 0:
            return ids
        top = int(ids.max()) + 1
        if top > len(self._last_block):
            grown = np.full(max(top, 2 * len(self._last_block)), -1, dtype=np.int64)
            grown[: len(self._last_block)] = self._last_block
            self._last_block = grown
        fresh = self._last_block[ids] < block_number
        for cycle_id in ids[~fresh]:
            self._deferred.update(pools_of(int(cycle_id)))
        chosen: IdArray = ids[fresh]
        self._last_block[chosen] = block_number
        return chosen

    def mark(self, ids: list[int], block_number: int) -> None:
        """Record that `ids` are evaluated at `block_number` (a merged, newer batch)."""
        for cycle_id in ids:
            if cycle_id < len(self._last_block):
                self._last_block[cycle_id] = max(int(self._last_block[cycle_id]), block_number)

    def forget_from(self, block_number: int) -> None:
        """A reorg replaced the blocks from `block_number` on: their evaluations were of the
        old branch, and the new branch's blocks of the same numbers price those cycles again
        (not only once the new branch passes the old one's top)."""
        self._last_block[self._last_block >= block_number] = block_number - 1

    def release(self, ids: list[int], block_number: int) -> None:
        """Forget that `ids` were evaluated at `block_number` (the engine never answered)."""
        for cycle_id in ids:
            if self._last_block[cycle_id] == block_number:
                self._last_block[cycle_id] = block_number - 1

    def evaluated_at(self, cycle_id: int) -> int:
        if cycle_id >= len(self._last_block):
            return -1
        return int(self._last_block[cycle_id])


@dataclass(slots=True)
class BlockJob:
    """A closed batch, captured: its cycles and their pools' states at that moment."""

    block_number: int
    cycles: list[Cycle]
    wire: dict[str, dict[str, Any]]
    converters: dict[str, PoolState]
    received_at: float | None
    captured_at: float
    changed: set[str] = field(default_factory=set)  # pools changed since the previous job
    epoch: int = 0  # reorgs seen when captured: a later one may orphan its block
    block_hash: str | None = None  # from the block's marker, when it had come
    resync: bool = False  # priced from a new connection's snapshot (see PendingBlock)


def merge_jobs(older: BlockJob, newer: BlockJob) -> BlockJob:
    """One batch for both, priced at the newer block's end state. An older cycle through a
    pool the newer block changed was screened again there: it is in the newer batch or no
    longer passes. The others' pools did not change, so their older states are still exact."""
    seen = {c.id for c in newer.cycles}
    cycles = newer.cycles + [
        c
        for c in older.cycles
        if c.id not in seen and not any(pool in newer.changed for pool in c.pools)
    ]
    arrivals = [t for t in (older.received_at, newer.received_at) if t is not None]
    return BlockJob(
        newer.block_number,
        cycles,
        {**older.wire, **newer.wire},
        {**older.converters, **newer.converters},
        min(arrivals) if arrivals else None,
        older.captured_at,
        older.changed | newer.changed,
        older.epoch,
        newer.block_hash,
        older.resync or newer.resync,
    )
