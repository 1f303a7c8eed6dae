"""The publication stage: a block's decided drafts become opportunities, on the WebSocket at
once, then in the history and on to their proof (and paper trade), off the publication path.

An opportunity of a block that a reorg replaced while it was priced is published as
orphaned, not proven; the others are remembered under their block (`ForkWatch`) so that a
later reorg can orphan them. Latency is measured from the block's arrival at ingest to the
moment each opportunity is published. A block's opportunities are prepared (`prepare`) while
the policy decides on them, so that what is left to do once its answer is in is short.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog

from titan_common.models import Opportunity, Verification
from titan_scanner.history import OpportunityRepository
from titan_scanner.pipeline.coalesce import BlockJob
from titan_scanner.pipeline.decision import Draft, GasContext, Prepared, finalise, prepare
from titan_scanner.pipeline.health import DependencyHealth
from titan_scanner.pipeline.metrics import RESYNC_AGE_MS, ScannerMetrics
from titan_scanner.pipeline.proofs import ProofStage
from titan_scanner.pipeline.publish import Publisher
from titan_scanner.pipeline.reorg import ForkWatch
from titan_scanner.pipeline.stats import ScannerStats
from titan_scanner.pipeline.tasks import BackgroundTasks
from titan_scanner.verify.paper import PaperTrader

_log = structlog.get_logger("scanner.pipeline")

# Drafts prepared between two yields to the event loop, so that the policy's request goes out
# and its answer is read while they are prepared.
PREPARE_CHUNK = 8


class PublicationStage:
    def __init__(
        self,
        chain_id: int,
        publisher: Publisher,
        repository: OpportunityRepository,
        proofs: ProofStage,
        forks: ForkWatch,
        stats: ScannerStats,
        metrics: ScannerMetrics,
        health: DependencyHealth,
        background: BackgroundTasks,
        paper: PaperTrader | None,
    ) -> None:
        self.chain_id = chain_id
        self.publisher = publisher
        self.repository = repository
        self.proofs = proofs
        self.forks = forks
        self.stats = stats
        self.metrics = metrics
        self.health = health
        self.background = background
        self.paper = paper

    async def prepare(self, job: BlockJob, drafts: list[Draft], ctx: GasContext) -> list[Prepared]:
        """Each draft's hops and id, yielding now and then (the policy's call runs meanwhile)."""
        prepared = []
        for i, d in enumerate(drafts):
            if i % PREPARE_CHUNK == 0:
                await asyncio.sleep(0)
            prepared.append(prepare(d, ctx, self.chain_id, job))
        return prepared

    async def publish(
        self,
        job: BlockJob,
        drafts: list[Draft],
        prepared: list[Prepared],
        actions: list[Any],
        ctx: GasContext,
    ) -> list[Opportunity]:
        """Publish each draft that still clears the threshold with its action; returns them.

        With subscribers on the WebSocket, the loop lets the event loop run after each
        opportunity, so its message goes out then: a block of fifty opportunities otherwise
        held its first message until the last was made (~4 ms)."""
        published: list[tuple[Opportunity, str]] = []
        arrived = job.received_at if job.received_at is not None else job.captured_at
        for d, ready, action in zip(drafts, prepared, actions, strict=True):
            now = time.time()
            latency_ms = max(0.0, (now - arrived) * 1000)
            opp = finalise(d, ready, action, ctx, self.chain_id, job, now, latency_ms)
            if opp is None:
                self.stats.rejected_unprofitable += 1
                continue
            if self.forks.orphaned_since(job.epoch, job.block_number):
                orphaned = Verification(status="orphaned", block_number=job.block_number)
                opp = opp.model_copy(update={"verification": orphaned})
                self.proofs.count("orphaned")
            else:
                self.forks.note(job.block_number, opp.id)
                if not self.proofs.wanted():
                    opp = opp.model_copy(update={"verification": Verification(status="skipped")})
            self.publisher.opportunity(opp)
            self.stats.published += 1
            self.metrics.opportunities.inc()
            if not job.resync and latency_ms < RESYNC_AGE_MS:  # a block's, not a snapshot's
                self.stats.latencies_ms.append(latency_ms)
                self.metrics.block_to_publish_seconds.observe(latency_ms / 1000)
            published.append((opp, d.cycle.key))
            if self.publisher.subscribers:
                await asyncio.sleep(0)  # its message goes out now
        if published:
            self.background.spawn(self._store_and_verify(published))
        return [opp for opp, _ in published]

    async def _store_and_verify(self, published: list[tuple[Opportunity, str]]) -> None:
        """History first (one thread, in order), then the proof."""
        started = time.perf_counter()
        try:
            await self.repository.save_many(published)
            self.health["database"].mark(True)
        except Exception as exc:
            self.health["database"].mark(False, str(exc)[:200])
            _log.error("scanner.history.save_failed", reason=str(exc)[:200])
        self.metrics.stage_seconds.labels("history").observe(time.perf_counter() - started)
        for opp, _ in published:
            if opp.verification.status == "pending":
                self.proofs.offer(opp)
            if self.paper is not None and opp.verification.status != "orphaned":
                self.paper.offer(opp)
