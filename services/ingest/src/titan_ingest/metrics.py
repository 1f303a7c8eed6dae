"""Ingest's Prometheus metrics, read from the pipeline at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from titan_ingest.sync.pipeline import IngestPipeline


class PipelineCollector(Collector):
    def __init__(self, pipeline: IngestPipeline) -> None:
        self.pipeline = pipeline

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        p = self.pipeline
        s = p.stats
        gauges = {
            "ingest_pools": ("pools followed", len(p.store.pools)),
            "ingest_block_number": ("highest block applied", p.store.head),
            "ingest_node_head": ("highest block the node reported", s.node_head),
            "ingest_lag_blocks": ("blocks behind the node's head", p.lag_blocks()),
            "ingest_lag_ms": ("milliseconds behind the node's head", p.lag_ms()),
            "ingest_events_per_second": ("events applied per second", s.events_per_second()),
            "ingest_ws_clients": ("WS /ws/pools clients", len(p.hub.subscribers)),
            "ingest_source_connected": ("WebSocket source connected", int(s.source_connected)),
        }
        for name, (doc, value) in gauges.items():
            yield GaugeMetricFamily(name, doc, value=float(value))
        counters = {
            "ingest_events_applied": ("events applied", s.events_applied),
            "ingest_events_stale": ("events dropped as stale or duplicate", s.events_stale),
            "ingest_malformed_messages": (
                "node messages that could not be read",
                s.malformed_messages,
            ),
            "ingest_reconnects": ("WebSocket reconnections", s.reconnects),
            "ingest_reorgs": ("reorgs handled", s.reorgs),
            "ingest_snapshots": ("snapshots taken", s.snapshots),
            "ingest_backfilled_blocks": ("blocks read by catch-up", s.backfilled_blocks),
            "ingest_rpc_failovers": ("RPC endpoint failovers", p.rpc.failovers),
            "ingest_ws_clients_dropped": ("slow WS clients dropped", p.hub.dropped_clients),
            "ingest_updates_published": ("pool updates published", p.hub.published),
        }
        for name, (doc, value) in counters.items():
            yield CounterMetricFamily(name, doc, value=float(value))


def register(registry: CollectorRegistry, pipeline: IngestPipeline) -> None:
    registry.register(PipelineCollector(pipeline))
