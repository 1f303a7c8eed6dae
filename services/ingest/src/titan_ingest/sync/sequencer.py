"""The sequencer: the one stage that changes the store, one message at a time.

Logs are applied the moment they arrive (each pool drops what is at or below its version);
a factory's creation log adopts its pool. A head extends the remembered chain and makes its
block due for completion: the backfill starts reading the block's logs by hash at once; the
stream's logs of that block go on being applied meanwhile (nodes often send the head first),
and once the read is in and nothing else is queued, or before anything of a later block,
what the stream has not delivered is applied and the block's marker published. Anything that contradicts the remembered
chain (a head or log with another hash for a known block, a head whose parent is not our
block, a log with `removed: true` for a block we applied) and every catch-up request goes to
the backfill, which settles the store on the node's canonical chain over HTTP before the
next message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from titan_common.heap import freeze_long_lived
from titan_ingest.chain.abi import Created
from titan_ingest.chain.rpc import RpcError, RpcUnavailable
from titan_ingest.state.pools import PoolEntry
from titan_ingest.state.store import PoolStore
from titan_ingest.sync.backfill import Backfiller, BlockRead, ChainMovedError
from titan_ingest.sync.messages import CatchUpMsg, HeadMsg, LogMsg, Message
from titan_ingest.sync.stats import SyncStats

_log = structlog.get_logger("titan_ingest.sequencer")

Publish = Callable[[PoolEntry, bool], None]  # (pool, removed)


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
        # The newest head whose block is still to complete, its logs being read.
        self.due: BlockRead | None = None

    async def run(self, queue: asyncio.Queue[Message]) -> None:
        try:
            while True:
                message = await self._next(queue)
                if message is None:  # the due block's read is in and nothing is queued
                    assert self.due is not None
                    self.handling_since = self.due.received_at
                    try:
                        await self._guarded(self.complete_due(), "completion")
                    finally:
                        self.handling_since = None
                    continue
                self.pending = queue.qsize()
                self.handling_since = message.received_at
                try:
                    await self._guarded(self.handle(message), type(message).__name__)
                finally:
                    self.handling_since = None
                    queue.task_done()
        finally:
            if self.due is not None:
                self.due.discard()

    async def _next(self, queue: asyncio.Queue[Message]) -> Message | None:
        """The next message, or None when the due block's read finishes first."""
        if self.due is None or not queue.empty():
            return await queue.get()
        getter = asyncio.ensure_future(queue.get())
        waiting: set[asyncio.Future[Any]] = {getter, self.due.task}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            return getter.result()
        getter.cancel()  # the message, if one came meanwhile, stays queued
        return None

    async def _guarded(self, work: Awaitable[None], what: str) -> None:
        try:
            await work
        except (RpcError, RpcUnavailable, ChainMovedError) as exc:
            # The node could not be read now; the next catch-up (every reconnection and
            # poll) or head brings the store back to the chain's head.
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            _log.warning("ingest.sync.catch_up_failed", error=str(exc))
        except Exception as exc:  # a bug must not stop the sync; the cause is logged
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            _log.exception("ingest.sync.message_failed", message=what)

    async def handle(self, message: Message) -> None:
        if self.due is not None and (
            not isinstance(message, LogMsg) or message.block_number > self.due.header.number
        ):
            await self.complete_due()  # its marker goes before anything of a later block
        if isinstance(message, LogMsg):
            await self._on_log(message)
        elif isinstance(message, HeadMsg):
            await self._on_head(message)
        else:
            await self._catch_up(message)

    async def complete_due(self) -> None:
        """Complete the block of the last head (if not done yet) and publish its marker."""
        if self.due is not None:
            read, self.due = self.due, None
            await self.backfill.complete(read)

    async def _catch_up(self, message: CatchUpMsg) -> None:
        await self.backfill.catch_up(message.received_at)
        if not self.synced.is_set():  # the first snapshot: its pools live as long as we do
            freeze_long_lived()
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
        if self.due is not None:  # the same head again (handle() completed any other)
            self.due.discard()
        self.due = self.backfill.read_block(header, message.received_at)

    async def _on_log(self, message: LogMsg) -> None:
        store = self.store
        if not store.ready or message.block_number <= store.base or message.event is None:
            return
        if message.removed:
            if store.block_hash(message.block_number) == message.block_hash:
                _log.info("ingest.reorg.detected", block_number=message.block_number, by="removed")
                await self.backfill.catch_up(message.received_at)
            return
        if not self.backfill.wanted(message):
            return  # another contract's log (the filter names topics only when pools are many)
        if store.conflicts(message.block_number, message.block_hash):
            _log.info("ingest.reorg.detected", block_number=message.block_number, by="log")
            await self.backfill.catch_up(message.received_at)
            if store.block_hash(message.block_number) != message.block_hash:
                return  # the log's block is not canonical (any more)
        if isinstance(message.event, Created):
            await self.backfill.adopt(message)
            return
        if message.block_number <= store.complete:
            # Its block was completed by its head (read by hash) before the stream got here.
            self.stats.events_late += 1
            return
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
