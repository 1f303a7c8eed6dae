"""Fan-out of pool updates and block markers to WebSocket clients, each behind a bounded queue.

An update is serialized once (orjson) and queued for every client whose filter matches; a
block marker (`BlockComplete`) goes to every client, after the updates of its block. A client
whose queue is full is too slow: it is dropped with close code 1013 and a reason that says
so, and nobody else waits for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from titan_ingest.chain.config import PoolMeta
from titan_ingest.state.pools import PoolEntry

SLOW_CLIENT_CODE = 1013  # "try again later"


@dataclass(frozen=True, slots=True)
class PoolFilter:
    """Which pools a client wants; an empty set matches any."""

    pools: frozenset[str] = frozenset()
    tokens: frozenset[str] = frozenset()
    dexes: frozenset[str] = frozenset()

    def matches(self, meta: PoolMeta) -> bool:
        return (
            (not self.pools or meta.address in self.pools)
            and (not self.tokens or meta.token0 in self.tokens or meta.token1 in self.tokens)
            and (not self.dexes or meta.dex in self.dexes)
        )


@dataclass(eq=False)
class Subscriber:
    filter: PoolFilter
    queue: asyncio.Queue[str]
    backlog: list[str] = field(default_factory=list)  # the snapshot, sent before the queue
    dropped: str | None = None  # why it was dropped, once it is
    wake: asyncio.Event = field(default_factory=asyncio.Event)


def update_message(entry: PoolEntry, chain_id: int, removed: bool) -> dict[str, Any]:
    """A `PoolUpdate` in JSON mode (built by hand: this is the hot path)."""
    return {
        "chain_id": chain_id,
        "pool": entry.state_wire(),
        "block_number": entry.block_number,
        "log_index": entry.log_index,
        "block_hash": entry.block_hash,
        "removed": removed,
        "received_at": entry.received_at,
    }


def block_message(
    chain_id: int, number: int, block_hash: str | None, received_at: float | None
) -> dict[str, Any]:
    """A `BlockComplete` in JSON mode."""
    return {
        "type": "block",
        "chain_id": chain_id,
        "block_number": number,
        "block_hash": block_hash,
        "received_at": received_at,
    }


class Hub:
    def __init__(self, chain_id: int, queue_size: int = 2048) -> None:
        self.chain_id = chain_id
        self.queue_size = queue_size
        self.subscribers: set[Subscriber] = set()
        self.published = 0
        self.blocks_published = 0
        self.dropped_clients = 0

    def publish(self, entry: PoolEntry, removed: bool) -> None:
        self.published += 1
        if not self.subscribers:
            return
        payload = orjson.dumps(update_message(entry, self.chain_id, removed)).decode()
        for subscriber in list(self.subscribers):
            if subscriber.filter.matches(entry.meta):
                self._offer(subscriber, payload)

    def publish_block(self, number: int, block_hash: str | None, received_at: float | None) -> None:
        """Every update of the blocks up to `number` is queued: say so to every client."""
        self.blocks_published += 1
        if not self.subscribers:
            return
        payload = orjson.dumps(block_message(self.chain_id, number, block_hash, received_at))
        text = payload.decode()
        for subscriber in list(self.subscribers):
            self._offer(subscriber, text)

    def _offer(self, subscriber: Subscriber, payload: str) -> None:
        try:
            subscriber.queue.put_nowait(payload)
        except asyncio.QueueFull:
            self.drop(subscriber, f"slow consumer: more than {self.queue_size} updates queued")

    def drop(self, subscriber: Subscriber, reason: str) -> None:
        if subscriber in self.subscribers:
            self.subscribers.discard(subscriber)
            subscriber.dropped = reason
            subscriber.wake.set()
            self.dropped_clients += 1

    def subscribe(
        self,
        pool_filter: PoolFilter,
        snapshot: Iterable[PoolEntry],
        complete: tuple[int, str | None] | None = None,
    ) -> Subscriber:
        """A new client: the current state of its pools first, then the marker of the last
        complete block (`complete`: its number and hash), then every update after it.

        No await between reading the snapshot and registering: no update falls in between.
        """
        # The snapshot is not bounded by the queue: its size is no sign of a slow client.
        backlog = [
            orjson.dumps(update_message(entry, self.chain_id, False)).decode()
            for entry in snapshot
            if pool_filter.matches(entry.meta)
        ]
        if complete is not None:
            marker = block_message(self.chain_id, complete[0], complete[1], None)
            backlog.append(orjson.dumps(marker).decode())
        subscriber = Subscriber(pool_filter, asyncio.Queue(self.queue_size), backlog)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
