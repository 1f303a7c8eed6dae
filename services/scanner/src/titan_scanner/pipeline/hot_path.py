"""The hot path: a block from its first update to the publication of its opportunities.

Work off that path (the proofs' `eth_call`s, each a few milliseconds of the node's CPU and
some of ours) waits until no block is on it, so that it does not share the machine's cores
with a block being priced. The wait is bounded: under a flood of blocks the hot path is never
quiet for long, and the proofs must still be made before their block leaves the node's state
window. On the devnet at 1,104 pools with 1 s blocks, a proof was in flight during 4 of 95
blocks' hot paths before (one traced run); blocks that come faster meet the proofs of the
ones before them more often (BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
import contextlib


class HotPath:
    def __init__(self) -> None:
        self._quiet = asyncio.Event()
        self._quiet.set()

    @property
    def busy(self) -> bool:
        return not self._quiet.is_set()

    def mark(self, busy: bool) -> None:
        if busy:
            self._quiet.clear()
        else:
            self._quiet.set()

    async def quiet(self, limit_s: float) -> None:
        """Return once no block is on the hot path, or after `limit_s`."""
        if not self._quiet.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), limit_s)
