"""Running figures for `GET /api/stats` and the dashboard: counts, rates and latency windows."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class RateWindow:
    """Events per second over the last `seconds`."""

    seconds: float = 10.0
    _events: deque[tuple[float, int]] = field(default_factory=deque)

    def add(self, count: int, now: float | None = None) -> None:
        self._events.append((now if now is not None else time.monotonic(), count))

    def rate(self, now: float | None = None) -> float:
        now = now if now is not None else time.monotonic()
        while self._events and self._events[0][0] < now - self.seconds:
            self._events.popleft()
        return sum(count for _, count in self._events) / self.seconds


@dataclass
class ScannerStats:
    updates: int = 0
    blocks: int = 0
    evaluations: int = 0
    engine_errors: int = 0
    published: int = 0
    rejected_unprofitable: int = 0
    rejected_no_gas_price: int = 0
    history_pruned: int = 0  # opportunities deleted from the history since start (retention)
    # Batches closed, by what closed them: "marker", "newer_block", "timeout".
    blocks_closed: dict[str, int] = field(default_factory=dict)
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=2000))
    evaluation_rate: RateWindow = field(default_factory=RateWindow)
    verification: dict[str, int] = field(default_factory=dict)
    last_block: int = 0

    def latency(self) -> dict[str, float | int | None]:
        values = list(self.latencies_ms)
        return {
            "count": len(values),
            "p50_ms": percentile(values, 50),
            "p99_ms": percentile(values, 99),
        }

    def latency_histogram(self, edges: tuple[float, ...]) -> list[int]:
        counts = [0] * (len(edges) + 1)
        for value in self.latencies_ms:
            slot = next((i for i, edge in enumerate(edges) if value <= edge), len(edges))
            counts[slot] += 1
        return counts
