"""The state stage: every pool's newest state, applied in (block_number, log_index) order.

Stale updates drop; a rollback (`removed`) replaces the state whatever its version, since
ingest sends the state the pool returns to. Each pool remembers when it last changed, for
the dashboard's freshness view.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from titan_common.models import PoolStateV2, PoolStateV3, PoolUpdate

PoolState = PoolStateV2 | PoolStateV3


@dataclass(slots=True)
class PoolEntry:
    state: PoolState
    block_number: int
    log_index: int
    updated_at: float  # unix seconds when the scanner applied it
    wire: dict[str, Any] | None = None  # the state as JSON, made once per state

    def as_wire(self) -> dict[str, Any]:
        if self.wire is None:
            self.wire = self.state.model_dump(mode="json")
        return self.wire


class PoolStore:
    """Pool states by address, with the head block seen."""

    def __init__(self) -> None:
        self._pools: dict[str, PoolEntry] = {}
        self.head_block = 0
        self.applied = 0
        self.dropped_stale = 0

    def __len__(self) -> int:
        return len(self._pools)

    def __contains__(self, address: object) -> bool:
        return address in self._pools

    def get(self, address: str) -> PoolEntry | None:
        return self._pools.get(address)

    def state(self, address: str) -> PoolState | None:
        entry = self._pools.get(address)
        return None if entry is None else entry.state

    def states(self) -> dict[str, PoolState]:
        return {address: entry.state for address, entry in self._pools.items()}

    def entries(self) -> dict[str, PoolEntry]:
        return self._pools

    def apply(self, update: PoolUpdate) -> bool:
        """Apply an update; False when it is older than what the pool already has."""
        address = update.pool.address
        entry = self._pools.get(address)
        if not update.removed:
            self.head_block = max(self.head_block, update.block_number)
        if (
            entry is not None
            and not update.removed
            and (update.block_number, update.log_index) <= (entry.block_number, entry.log_index)
        ):
            if entry.state == update.pool:
                return False
            if (update.block_number, update.log_index) < (entry.block_number, entry.log_index):
                self.dropped_stale += 1
                return False
        self._pools[address] = PoolEntry(
            update.pool, update.block_number, update.log_index, time.time()
        )
        self.applied += 1
        if update.removed:  # a rollback: the head is the newest block a pool is left at
            self.head_block = max(e.block_number for e in self._pools.values())
        return True
