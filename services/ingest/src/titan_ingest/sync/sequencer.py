"""The sequencer: the one stage that changes the store, one message at a time.

Logs are applied the moment they arrive (each pool drops what is at or below its version);
heads extend the remembered chain. Anything that contradicts the remembered chain (a head or
log with another hash for a known block, a head whose parent is not our block, a log with
`removed: true` for a block we applied) and every catch-up request goes to the backfill,
which settles the store on the node's canonical chain over HTTP before the next message.
"""

from __future__ import annotations

import asyncio

import structlog

from titan_ingest.chain.rpc import RpcError, RpcUnavailable
from titan_ingest.state.store import PoolStore
from titan_ingest.sync.backfill import Backfiller, ChainMovedError, Publish
from titan_ingest.sync.messages import CatchUpMsg, HeadMsg, LogMsg, Message
from titan_ingest.sync.stats import SyncStats

_log = structlog.get_logger("titan_ingest.sequencer")

# A live stream marks a block complete once a head this many blocks later has arrived.
_COMPLETE_LAG = 2


class Sequencer:
    def __init__(
        self,
        store: PoolStore,
        backfill: Backfiller,
        stats: SyncStats,
        publish: Publish,
    ) -> None:
        self.store = store
        self.backfill = backfill
        self.stats = stats
        self.publish = publish
        self.synced = asyncio.Event()  # set once the first snapshot is in
        self.pending = 0  # messages waiting in the queue
        self.handling_since: float | None = None  # arrival of the message in hand, if any

    async def run(self, queue: asyncio.Queue[Message]) -> None:
        while True:
            message = await queue.get()
            self.pending = queue.qsize()
            self.handling_since = message.received_at
            try:
                await self.handle(message)
            except (RpcError, RpcUnavailable, ChainMovedError) as exc:
                # The node could not be read now; the next catch-up (every reconnection and
                # poll) brings the store back to the chain's head.
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                _log.warning("ingest.sync.catch_up_failed", error=str(exc))
            except Exception as exc:  # a bug must not stop the sync; the cause is logged
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                _log.exception("ingest.sync.message_failed", message=type(message).__name__)
            finally:
                self.handling_since = None
                queue.task_done()

    async def handle(self, message: Message) -> None:
        if isinstance(message, LogMsg):
            await self._on_log(message)
        elif isinstance(message, HeadMsg):
            await self._on_head(message)
        else:
            await self._catch_up(message)

    async def _catch_up(self, message: CatchUpMsg) -> None:
        await self.backfill.catch_up(message.received_at)
        self.synced.set()

    async def _on_head(self, message: HeadMsg) -> None:
        header = message.header
        self.stats.node_seen(header.number, message.received_at)
        store = self.store
        if not store.ready or header.number < store.base:
            return
        if store.conflicts(header.number, header.hash, header.parent_hash) or (
            header.number <= store.head and store.block_hash(header.number) is None
        ):
            _log.info("ingest.reorg.detected", block_number=header.number, by="head")
            await self.backfill.catch_up(message.received_at)
            return
        store.note_block(header.number, header.hash, header.parent_hash)
        complete = header.number - _COMPLETE_LAG
        if complete > store.complete and all(
            store.block_hash(n) is not None for n in range(store.complete + 1, complete + 1)
        ):
            store.complete = complete

    async def _on_log(self, message: LogMsg) -> None:
        store = self.store
        if not store.ready or message.block_number <= store.base or message.event is None:
            return
        if message.removed:
            if store.block_hash(message.block_number) == message.block_hash:
                _log.info("ingest.reorg.detected", block_number=message.block_number, by="removed")
                await self.backfill.catch_up(message.received_at)
            return
        if store.conflicts(message.block_number, message.block_hash):
            _log.info("ingest.reorg.detected", block_number=message.block_number, by="log")
            await self.backfill.catch_up(message.received_at)
            if store.block_hash(message.block_number) != message.block_hash:
                return  # the log's block is not canonical (any more)
        entry = store.apply_log(
            message.address,
            message.event,
            message.block_number,
            message.block_hash,
            message.log_index,
            message.received_at,
        )
        if entry is None:
            self.stats.events_stale += 1
            return
        self.stats.applied(1, message.received_at)
        self.publish(entry, False)
