"""Pools created after the start: a factory's creation log makes a new pool followed.

The pool is read at the end of its creation block (so every log of that block is in its
state), added to the store under that block (a rollback of the block removes it again),
published, and handed to the pipeline, which adds it to the log filters (the WebSocket
resubscribes). Its later logs come from the stream or, until the subscription covers it, from
each head's read of its block by hash.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol

import structlog

from titan_ingest.chain.abi import Created
from titan_ingest.chain.config import PoolMeta
from titan_ingest.discovery.factories import FactoryDiscovery
from titan_ingest.state.pools import PoolEntry
from titan_ingest.state.store import PoolStore
from titan_ingest.sync.messages import LogMsg
from titan_ingest.sync.stats import SyncStats

_log = structlog.get_logger("titan_ingest.adopt")

# Read pools at the end of a block: (pools, block number, block hash) -> their entries.
ReadPools = Callable[[Sequence[PoolMeta], int, str], Awaitable[list[PoolEntry]]]


class Sink(Protocol):
    """Where the sync's results go (the pipeline: the hub, listeners, log filters)."""

    def publish(self, entry: PoolEntry, removed: bool) -> None: ...

    def publish_block(
        self, number: int, block_hash: str | None, received_at: float | None
    ) -> None: ...

    def follow(self, metas: list[PoolMeta]) -> None: ...


class Adopter:
    def __init__(
        self,
        store: PoolStore,
        stats: SyncStats,
        discovery: FactoryDiscovery,
        sink: Sink,
        read: ReadPools,
    ) -> None:
        self.store = store
        self.stats = stats
        self.discovery = discovery
        self.sink = sink
        self.read = read

    def is_factory(self, address: str) -> bool:
        return address in self.discovery.dexes

    def new_pools(self, logs: Iterable[LogMsg]) -> list[PoolMeta]:
        """The pools these logs create that are to be followed and not followed yet."""
        found: dict[str, PoolMeta] = {}
        for log in logs:
            if isinstance(log.event, Created) and not log.removed:
                meta = self.discovery.followed(log.address, log.event)
                if meta is not None and meta.address not in self.store.pools:
                    found[meta.address] = meta
        return list(found.values())

    async def adopt(
        self, metas: list[PoolMeta], number: int, block_hash: str, received_at: float | None
    ) -> list[PoolEntry]:
        """Read `metas` at the end of block `number`, add and publish them; the entries."""
        if not metas:
            return []
        entries = await self.read(metas, number, block_hash)
        for entry in entries:
            entry.received_at = received_at
            self.store.add_pool(entry, block_hash)
            self.sink.publish(entry, False)
        self.stats.pools_created += len(entries)
        self.sink.follow([e.meta for e in entries])
        for entry in entries:
            _log.info(
                "ingest.pool.created",
                pool=entry.meta.address,
                dex=entry.meta.dex,
                block_number=number,
            )
        return entries
