"""The HTTP polling source: a catch-up every `REAL_DATA_POLLING_INTERVAL` seconds.

Used when `USE_WEBSOCKETS=false`; the WebSocket source falls back to the same requests while
it is disconnected. Correctness is the backfill's: the same code path as a reconnection.
"""

from __future__ import annotations

import asyncio
import time

from titan_ingest.sync.messages import CatchUpMsg, Message
from titan_ingest.sync.stats import SyncStats


class PollingSource:
    def __init__(self, interval: float, stats: SyncStats) -> None:
        self.interval = interval
        self.stats = stats

    def refresh(self) -> None:
        """The log filter changed: every poll reads it afresh, nothing to do."""

    async def run(self, queue: asyncio.Queue[Message]) -> None:
        self.stats.mode = "polling"
        self.stats.source_connected = True
        while True:
            queue.put_nowait(CatchUpMsg("poll", time.time()))
            await queue.join()  # one catch-up at a time, however slow the node
            await asyncio.sleep(self.interval)
