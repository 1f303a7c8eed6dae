"""Counters and gauges of the sync, read by `GET /api/stats`, `/ready` and `/metrics`."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class SyncStats:
    mode: str = "websocket"  # or "polling"
    source_connected: bool = False
    endpoint: str | None = None
    events_applied: int = 0
    events_stale: int = 0
    # Logs the stream delivered after their block's head had completed it by hash.
    events_late: int = 0
    pools_created: int = 0  # adopted from the factories' creation logs after the start
    malformed_messages: int = 0
    reconnects: int = 0
    reorgs: int = 0
    reorg_max_depth: int = 0
    snapshots: int = 0
    snapshot_seconds: float | None = None
    backfilled_blocks: int = 0
    catch_ups: int = 0
    node_head: int = -1  # the highest block the node reported
    node_head_at: float | None = None  # when that head arrived (unix seconds)
    last_node_contact: float | None = None
    last_error: str | None = None
    _event_times: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))
    # Seconds from a log's arrival to its update handed to the WS clients' queues.
    publish_latencies: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))

    def node_seen(self, number: int, at: float) -> None:
        """The node's latest head (lower than before after a reorg to a shorter chain)."""
        self.last_node_contact = at
        if number != self.node_head:
            self.node_head, self.node_head_at = number, at

    def applied(self, count: int = 1, at: float | None = None) -> None:
        self.events_applied += count
        now = at or time.time()
        for _ in range(min(count, 1000)):
            self._event_times.append(now)

    def events_per_second(self, window: float = 10.0) -> float:
        cutoff = time.time() - window
        while self._event_times and self._event_times[0] < cutoff:
            self._event_times.popleft()
        return len(self._event_times) / window

    def publish_latency_ms(self) -> dict[str, float | None]:
        """p50/p99/max over the last 10,000 live updates, in milliseconds."""
        values = sorted(self.publish_latencies)
        if not values:
            return {"p50": None, "p99": None, "max": None}

        def at(q: float) -> float:
            return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 3)

        return {"p50": at(0.5), "p99": at(0.99), "max": round(values[-1] * 1000, 3)}
