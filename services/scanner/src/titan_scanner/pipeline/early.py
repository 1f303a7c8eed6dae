"""Early pricing: a block's batch priced before ingest's marker, held until the block closes.

Ingest sends a block's updates as the node streams its logs, but its marker only once it has
read the block's logs back by hash: 2-4 ms later on the devnet at 1,104 pools, the round trip
under the CPU load every service has at a new head. The scanner need not wait idle meanwhile.
When a block's updates have paused and the decision worker is idle, the open batch is captured
and priced (engine, gas, policy) as usual, then held. When the block closes (its marker, a
newer block's update or the fallback timeout) the held batch gets its verdict: the pools that
changed after the capture. Its cycles through them are dropped and, evaluated once at this
block already, wait for the next block's batch, as cycles touched by any late log of a block
do; the others, exact at the block, are published at once. A lost link to ingest or a rollback
drops the whole held batch instead (its cycles are released, its pools priced again).

Where a node sends a block's logs spread out over more than the pause, held batches would
often lose cycles to the next block (`late_cycles` in the stats): set `SCANNER_EARLY_QUIET_MS`
above the spread, or 0 to turn early pricing off.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from titan_scanner.cycles import Cycle
    from titan_scanner.pipeline.coalesce import BlockJob
    from titan_scanner.pipeline.state import PoolState


@dataclass(frozen=True, slots=True)
class Verdict:
    """The block closed: what changed in it after the early capture."""

    late: frozenset[str]  # pools updated after the capture
    received_at: float | None  # the block's arrival at ingest, as its marker tells it
    block_hash: str | None
    converters: dict[str, PoolState] | None  # fresh states, when a converter pool was late

    def keeps(self, cycle: Cycle) -> bool:
        return not any(pool in self.late for pool in cycle.pools)


@dataclass(eq=False)
class EarlyBatch:
    """A batch captured before its block closed; `verdict` resolves to None when dropped."""

    block_number: int
    pools: set[str]  # the pools of the capture (the open batch at that moment)
    job: BlockJob | None = None  # None when no cycle of those pools needed pricing
    late: set[str] = field(default_factory=set)
    verdict: asyncio.Future[Verdict | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def close(
        self,
        received_at: float | None,
        block_hash: str | None,
        converters: dict[str, PoolState] | None,
    ) -> Verdict:
        verdict = Verdict(frozenset(self.late), received_at, block_hash, converters)
        if not self.verdict.done():
            self.verdict.set_result(verdict)
        return verdict

    def drop(self) -> None:
        if not self.verdict.done():
            self.verdict.set_result(None)
