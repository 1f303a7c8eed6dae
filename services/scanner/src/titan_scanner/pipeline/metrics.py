"""The scanner's Prometheus metrics: a latency histogram per pipeline stage, and counters."""

from __future__ import annotations

import time
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from titan_scanner.pipeline.coalesce import BlockJob

# A new connection's snapshot is marked (`BlockJob.resync`) and stays out of the latency
# figures; so does anything older than this at publication (a block held across a lost
# connection): its age says nothing of the pipeline's speed.
RESYNC_AGE_MS = 30_000.0

_FAST = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)


@dataclass(frozen=True)
class ScannerMetrics:
    stage_seconds: Histogram
    block_to_publish_seconds: Histogram
    updates: Counter
    evaluations: Counter
    opportunities: Counter
    verifications: Counter
    engine_errors: Counter
    blocks_closed: Counter
    cycles: Gauge
    pools: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> ScannerMetrics:
        return cls(
            stage_seconds=Histogram(
                "scanner_stage_seconds",
                "Time spent in each pipeline stage per block",
                ["stage"],
                registry=registry,
                buckets=_FAST,
            ),
            block_to_publish_seconds=Histogram(
                "scanner_block_to_publish_seconds",
                "From the block's arrival at ingest to the opportunity's publication",
                registry=registry,
                buckets=_FAST,
            ),
            updates=Counter("scanner_pool_updates", "Pool updates applied", registry=registry),
            evaluations=Counter(
                "scanner_cycle_evaluations", "Cycles sent to the engine", registry=registry
            ),
            opportunities=Counter(
                "scanner_opportunities", "Opportunities published", registry=registry
            ),
            verifications=Counter(
                "scanner_verifications", "Verifications by result", ["status"], registry=registry
            ),
            engine_errors=Counter(
                "scanner_engine_errors", "Engine batches that failed", registry=registry
            ),
            blocks_closed=Counter(
                "scanner_blocks_closed",
                "Block batches closed, by what closed them: ingest's marker, a newer block's "
                "update, or the fallback timeout (an ingest without markers)",
                ["by"],
                registry=registry,
            ),
            cycles=Gauge("scanner_cycles_indexed", "Cycles in this shard", registry=registry),
            pools=Gauge("scanner_pools", "Pools known", registry=registry),
        )

    def observe_arrival(self, job: BlockJob) -> None:
        """The stages before the decision: from the block's arrival at ingest to its batch
        closing here ("arrival": ingest, the WebSocket, the wait for the block's marker), then
        the wait for the decision worker ("queue")."""
        now = time.time()
        stages = self.stage_seconds
        arrived = job.received_at
        if not job.resync and arrived is not None and (now - arrived) * 1000 < RESYNC_AGE_MS:
            stages.labels("arrival").observe(max(0.0, job.captured_at - arrived))
        stages.labels("queue").observe(max(0.0, now - job.captured_at))
