"""Pools created after the start: a factory's creation log makes a new pool followed.

A new pool is built from its own logs, never read from the node: it starts as the contract
leaves its constructor (V2 reserves 0; V3 not initialized, no liquidity, no ticks) at its
creation log, and the logs that follow in its block make its state (V2 `Sync`; V3
`Initialize`, `Mint`, `Burn`, `Swap`). A state read "at the end of the block" would trust the
node to answer for that block exactly; anvil answers a read at its newest block from the next
block's state while it mines that one, and that next block's `Mint` was then applied twice.
Logs of a block hash cannot change. The pool is added to the store under its block (a rollback
of the block removes it again), published, and handed to the pipeline, which adds it to the
log filters (the WebSocket resubscribes). Its later logs come from the stream or, until the
subscription covers it, from each head's read of its block by hash.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
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

# The pools' logs of one block, by its hash, in order: (pool addresses, creation log) -> logs.
ReadLogs = Callable[[list[str], LogMsg], Awaitable[list[LogMsg]]]

Birth = tuple[PoolMeta, LogMsg]  # a pool to follow and the log that created it


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
        read_logs: ReadLogs,
    ) -> None:
        self.store = store
        self.stats = stats
        self.discovery = discovery
        self.sink = sink
        self.read_logs = read_logs

    def is_factory(self, address: str) -> bool:
        return address in self.discovery.dexes

    def births(self, logs: Iterable[LogMsg]) -> list[Birth]:
        """The pools these logs create that are to be followed and not followed yet."""
        found: dict[str, Birth] = {}
        for log in logs:
            if isinstance(log.event, Created) and not log.removed:
                meta = self.discovery.followed(log.address, log.event)
                if meta is not None and meta.address not in self.store.pools:
                    found.setdefault(meta.address, (meta, log))
        return list(found.values())

    async def adopt(self, births: list[Birth]) -> list[PoolEntry]:
        """Follow the pools born in one block, from their creation logs; their entries at the
        end of that block, added and published."""
        if not births:
            return []
        block = births[0][1]
        # Read before anything changes: if the read fails, the store is as it was (the
        # creation log comes again with its block's read by hash).
        logs = await self.read_logs([meta.address for meta, _ in births], block)
        entries: list[PoolEntry] = []
        for meta, created in births:
            number, index, at = created.block_number, created.log_index, created.received_at
            entry = PoolEntry(meta, number, index, created.block_hash, at)
            self.store.add_pool(entry, created.block_hash)
            entries.append(entry)
        for log in logs:  # the store drops what precedes each pool's creation
            if log.event is None or log.removed or isinstance(log.event, Created):
                continue
            applied = self.store.apply_log(
                log.address,
                log.event,
                log.block_number,
                log.block_hash,
                log.log_index,
                log.received_at,
            )
            if applied is not None:
                self.stats.applied(1, log.received_at)
        for entry in entries:
            self.sink.publish(entry, False)
            _log.info(
                "ingest.pool.created",
                pool=entry.meta.address,
                dex=entry.meta.dex,
                block_number=block.block_number,
            )
        self.stats.pools_created += len(entries)
        self.sink.follow([e.meta for e in entries])
        return entries
