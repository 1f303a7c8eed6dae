"""Reorgs as the scanner sees them: which published opportunities a block marker orphans.

Ingest's block markers carry each block's hash. A marker with another hash for a block marked
before means the chain replaced that block, and so every block above it (each hash commits to
its parent): the opportunities published for those blocks were priced on a branch that is no
longer the chain. A marker below the highest block marked means the chain went back (a reorg
to a shorter chain): the blocks above it are gone. Either way their opportunities are
`orphaned`, and a batch still in flight for such a block is orphaned when it publishes.

A reorg the scanner does not see a marker for (one that happens, whole, while it is cut off
from ingest, and is deeper than the block ingest resumes at) is not detected here.
"""

from __future__ import annotations

from collections import deque

# Blocks remembered below the highest marked; ingest unwinds at most INGEST_REORG_DEPTH (64).
WINDOW = 256


class ForkWatch:
    """Block hashes from the markers and the opportunity ids published per block."""

    def __init__(self, window: int = WINDOW) -> None:
        self.window = window
        self.top = -1  # the highest block marked
        self.hashes: dict[int, str] = {}
        self.published: dict[int, list[str]] = {}
        self.orphaned: dict[str, int] = {}  # id -> block, of the recent orphans
        self.reorgs = 0
        # (reorg number, lowest block it orphaned) of the recent reorgs, for batches in flight.
        self._floors: deque[tuple[int, int]] = deque(maxlen=64)

    @property
    def epoch(self) -> int:
        """The reorgs seen so far: a batch notes it when captured."""
        return self.reorgs

    def note(self, block_number: int, opportunity_id: str) -> None:
        """An opportunity published for `block_number`."""
        self.published.setdefault(block_number, []).append(opportunity_id)

    def on_marker(self, number: int, block_hash: str | None) -> list[tuple[str, int]]:
        """Record a marker; the (id, block) of every opportunity it orphans."""
        known = self.hashes.get(number)
        floor: int | None = None
        if known is not None and block_hash is not None and known != block_hash:
            floor = number
        elif number < self.top:
            floor = number + 1
        if block_hash is not None:
            self.hashes[number] = block_hash
        if floor is None:
            self.top = max(self.top, number)
            self._prune()
            return []
        self.reorgs += 1
        self._floors.append((self.reorgs, floor))
        self.top = number
        for old in [n for n in self.hashes if n > number]:
            del self.hashes[old]  # the old branch's: the new one's markers follow
        orphaned = [
            (opportunity_id, block)
            for block in sorted(n for n in self.published if n >= floor)
            for opportunity_id in self.published.pop(block)
        ]
        self.orphaned.update(orphaned)
        return orphaned

    @property
    def floor(self) -> int | None:
        """The lowest block the latest reorg replaced (None before any)."""
        return self._floors[-1][1] if self._floors else None

    def orphaned_since(self, epoch: int, block_number: int) -> bool:
        """Whether a reorg after `epoch` orphaned `block_number` (a batch captured then)."""
        return any(n > epoch and floor <= block_number for n, floor in self._floors)

    def _prune(self) -> None:
        oldest = self.top - self.window
        for number in [n for n in self.hashes if n < oldest]:
            del self.hashes[number]
        for number in [n for n in self.published if n < oldest]:
            del self.published[number]
        for opportunity_id in [i for i, n in self.orphaned.items() if n < oldest]:
            del self.orphaned[opportunity_id]
