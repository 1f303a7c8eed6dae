"""The scanner's Prometheus metrics: a latency histogram per pipeline stage, and counters."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
