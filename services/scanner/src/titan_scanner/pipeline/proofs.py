"""The proof stage: published opportunities simulated on the chain at their block, off the
publication path, and their results recorded (history, WebSocket, figures).

Proofs wait in a bounded queue: under a burst the oldest give way (`skipped`, recorded together
a moment later) rather than queue for minutes, since the newest are the ones worth proving and
the oldest would soon be past the node's state window. An opportunity whose block a reorg
replaced is `orphaned`, whatever a proof of it said or would say.

A proof of a block is made once the chain has a block above it, and then once that block is
off the hot path (published): with 1 s blocks, the proofs of the last block run in the quiet
time after the next one's opportunities are out, not beside its pricing.
"""

from __future__ import annotations

import asyncio
import random
import time

import structlog

from titan_common.models import Opportunity, Verification
from titan_scanner.history import OpportunityRepository
from titan_scanner.pipeline.hot_path import HotPath
from titan_scanner.pipeline.metrics import ScannerMetrics
from titan_scanner.pipeline.publish import Publisher
from titan_scanner.pipeline.reorg import ForkWatch
from titan_scanner.pipeline.stats import ScannerStats
from titan_scanner.pipeline.tasks import BackgroundTasks
from titan_scanner.verify import Verifier

_log = structlog.get_logger("scanner.proofs")

# Proofs waiting at most: a burst cannot queue proofs for minutes; past it the oldest give way.
QUEUE_SIZE = 2000
# The proofs that gave way are recorded together this long after the first of them.
GIVEN_WAY_DELAY_S = 0.5
# How long a proof waits at most for the hot path to be quiet: blocks that come back to back
# (automine under a flood) keep it busy, and the proofs must still keep up with the chain.
HOT_PATH_WAIT_S = 0.25


class ProofStage:
    def __init__(
        self,
        verifier: Verifier | None,
        mode: str,  # "all", "sample" or "off"
        sample_rate: float,
        repository: OpportunityRepository,
        publisher: Publisher,
        forks: ForkWatch,
        stats: ScannerStats,
        metrics: ScannerMetrics,
        background: BackgroundTasks,
        hot_path: HotPath | None = None,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        self.verifier = verifier
        self.mode = mode
        self.sample_rate = sample_rate
        self.repository = repository
        self.publisher = publisher
        self.forks = forks
        self.stats = stats
        self.metrics = metrics
        self.queue: asyncio.Queue[Opportunity] = asyncio.Queue(queue_size)
        self._given_way: list[tuple[str, Verification]] = []
        self.background = background
        self.hot_path = hot_path or HotPath()

    def wanted(self) -> bool:
        """Whether the next opportunity is to be proven (all, a sample, or none)."""
        if self.verifier is None or self.mode == "off":
            return False
        return self.mode == "all" or random.random() < self.sample_rate

    def note_head(self, block_number: int) -> None:
        """The chain has `block_number` (ingest's marker): proofs below it need not ask."""
        if self.verifier is not None:
            self.verifier.note_head(block_number)

    def offer(self, opportunity: Opportunity) -> None:
        """Queue a proof; when the queue is full the oldest proof gives way (`skipped`)."""
        if self.queue.full():
            oldest = self.queue.get_nowait()
            skipped = Verification(status="skipped", block_number=oldest.block_number)
            if not self._given_way:
                self.background.spawn(self._record_given_way())
            self._given_way.append((oldest.id, skipped))
        self.queue.put_nowait(opportunity)

    async def run(self) -> None:
        """One proof worker: prove the queued opportunities one after another."""
        assert self.verifier is not None
        while True:
            opportunity = await self.queue.get()
            if opportunity.id in self.forks.orphaned:
                continue  # its block left the chain: nothing to prove there
            if self.verifier.behind(opportunity.block_number):
                await self._skip_behind(opportunity)
                continue
            await self.verifier.wait_past(opportunity.block_number)
            await self.hot_path.quiet(HOT_PATH_WAIT_S)
            started = time.perf_counter()
            result = await self.verifier.verify(opportunity)
            self.metrics.stage_seconds.labels("verify").observe(time.perf_counter() - started)
            if result.status == "mismatch" and opportunity.id not in self.forks.orphaned:
                # (an orphan's proof ran on the new branch: its difference is no finding)
                _log.warning(
                    "scanner.verification.mismatched",
                    id=opportunity.id,
                    block_number=opportunity.block_number,
                    predicted=str(opportunity.amount_out),
                    realized=str(result.realized_amount_out),
                )
            await self.record(opportunity.id, result)

    async def _skip_behind(self, first: Opportunity) -> None:
        """`first` and every queued proof whose block is past the node's state window, by the
        newest head seen: skipped together. Under a sustained flood one at a time, the worker
        would spend its turns on the stale end of the queue and never reach a fresh proof."""
        assert self.verifier is not None
        queued = [self.queue.get_nowait() for _ in range(self.queue.qsize())]
        behind = [first]
        for opportunity in queued:
            if self.verifier.behind(opportunity.block_number):
                behind.append(opportunity)
            else:
                self.queue.put_nowait(opportunity)
        _log.info("scanner.verification.too_old", skipped=len(behind), oldest=first.block_number)
        await self._record_many(
            [
                (o.id, Verification(status="skipped", block_number=o.block_number))
                for o in behind
                if o.id not in self.forks.orphaned
            ]
        )

    def orphan(self, orphaned: list[tuple[str, int]]) -> None:
        """Opportunities published for blocks a reorg replaced: orphaned in the history and
        on the WebSocket, whatever their proof said (it was of the old branch)."""
        self.background.spawn(self._record_orphans(orphaned))

    def count(self, status: str) -> None:
        self.stats.verification[status] = self.stats.verification.get(status, 0) + 1
        self.metrics.verifications.labels(status).inc()

    async def record(self, opportunity_id: str, result: Verification) -> None:
        if result.status != "orphaned" and opportunity_id in self.forks.orphaned:
            return  # orphaned while being proven: the proof is of a block no longer on the chain
        self.count(result.status)
        self.publisher.verification(opportunity_id, result)
        try:
            await self.repository.set_verification(opportunity_id, result)
        except Exception as exc:
            _log.error("scanner.history.verification_failed", id=opportunity_id, reason=str(exc))

    async def _record_orphans(self, orphaned: list[tuple[str, int]]) -> None:
        await self._record_many(
            [(i, Verification(status="orphaned", block_number=block)) for i, block in orphaned]
        )

    async def _record_given_way(self) -> None:
        """The proofs that gave way, recorded `skipped` together a moment later: under
        overload they come by the hundred a second, one commit each would swamp the history."""
        await asyncio.sleep(GIVEN_WAY_DELAY_S)
        given_way, self._given_way = self._given_way, []
        _log.warning("scanner.verification.queue_full", skipped=len(given_way))
        await self._record_many([(i, v) for i, v in given_way if i not in self.forks.orphaned])

    async def _record_many(self, results: list[tuple[str, Verification]]) -> None:
        """Results that come by the hundred (proofs that gave way, a reorg's orphans): one
        commit for all, since one each would swamp the history."""
        for opportunity_id, result in results:
            self.count(result.status)
            self.publisher.verification(opportunity_id, result)
        try:
            await self.repository.set_verifications(results)
        except Exception as exc:
            _log.error("scanner.history.verification_failed", reason=str(exc)[:200])
