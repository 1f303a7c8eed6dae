"""Catch up over HTTP: from the last complete block to the node's head, reorg-safe.

One code path serves the first snapshot, every head of the live stream, every (re)connection
of the WebSocket, every poll of the HTTP fallback and every reorg: if our recent blocks left
the canonical chain, roll back to the common ancestor (or take a new snapshot when it is
deeper than the history kept); then read the missing blocks' logs (by block hash for short
ranges, by range with a hash check for long ones) and apply them in (block, log index) order.
Logs already applied are dropped by the pools' versions, so nothing is applied twice. Once a
block's logs are all applied its marker is published: clients may price that block.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from titan_ingest.chain import abi
from titan_ingest.chain.abi import MalformedLogError
from titan_ingest.chain.config import PoolMeta
from titan_ingest.chain.rpc import Header, RpcClient
from titan_ingest.discovery.factories import FactoryDiscovery
from titan_ingest.snapshot.helper import HelperSnapshotReader, helper_supported
from titan_ingest.snapshot.reader import SnapshotReader
from titan_ingest.state.pools import PoolEntry
from titan_ingest.state.store import PoolStore
from titan_ingest.sync.adopt import Adopter, Sink
from titan_ingest.sync.messages import LogMsg, parse_log
from titan_ingest.sync.reorg import find_ancestor
from titan_ingest.sync.stats import SyncStats

_log = structlog.get_logger("titan_ingest.backfill")

_BY_HASH_MAX = 16  # ranges up to this many blocks are read block by block, by hash
_ATTEMPTS = 5
# Log filters name the addresses up to this many; beyond, nodes may refuse the filter, so it
# names the topics only and the logs of other contracts are dropped here.
ADDRESS_FILTER_MAX = 1000


class ChainMovedError(Exception):
    """The chain changed while we read it; read again."""


@dataclass
class BlockRead:
    """The logs of blocks `start`..`header` being read for a head (a task)."""

    start: int
    parent: str | None  # our block start - 1 when the read began: it extends that one
    header: Header
    received_at: float
    task: asyncio.Future[tuple[dict[int, Header], list[LogMsg]]]

    def discard(self) -> None:
        """Not needed after all: stop it, and take its error, if any, so none is reported."""
        self.task.cancel()
        if self.task.done() and not self.task.cancelled():
            self.task.exception()


class Backfiller:
    def __init__(
        self,
        rpc: RpcClient,
        store: PoolStore,
        stats: SyncStats,
        pools: Callable[[], Sequence[PoolMeta]],
        sink: Sink,
        discovery: FactoryDiscovery | None = None,
        log_range: int = 2000,
        progress: bool = False,
        snapshot_method: str = "helper",
    ) -> None:
        self.rpc = rpc
        self.store = store
        self.stats = stats
        self.pools = pools
        self.sink = sink
        self.log_range = log_range
        self.progress = progress
        self.snapshot_method = snapshot_method
        self._helper_ok: bool | None = None
        # JSON-RPC over the live WebSocket, when the source has one: (method, params) -> result.
        self.fast: Callable[[str, Any], Awaitable[Any]] | None = None
        # New pools from the factories' creation logs, when followed.
        self.adopter = (
            Adopter(store, stats, discovery, sink, self._pool_logs) if discovery else None
        )

    def log_filter(self) -> dict[str, Any]:
        """The logs ingest reads: the pools' events, and the factories' creations if followed."""
        addresses = [m.address for m in self.pools()]
        topics = [*abi.POOL_TOPICS]
        if self.adopter is not None:
            addresses += list(self.adopter.discovery.dexes)
            topics += abi.FACTORY_TOPICS
        query: dict[str, Any] = {"topics": [["0x" + t.hex() for t in topics]]}
        if len(addresses) <= ADDRESS_FILTER_MAX:
            query["address"] = addresses
        return query

    def wanted(self, log: LogMsg) -> bool:
        """Whether a log is of a pool followed or a factory watched (filters may be wider)."""
        return log.address in self.store.pools or (
            self.adopter is not None and self.adopter.is_factory(log.address)
        )

    async def catch_up(self, received_at: float | None = None) -> None:
        """Bring the store to the node's head; retried while the chain moves under us."""
        for _ in range(_ATTEMPTS):
            latest = await self.rpc.header("latest")
            self.stats.node_seen(latest.number, received_at or time.time())
            try:
                await self._catch_up_to(latest, received_at)
                self.stats.catch_ups += 1
                return
            except ChainMovedError as exc:
                _log.info("ingest.backfill.retried", reason=str(exc))
        raise ChainMovedError("the chain kept moving while it was read")

    def read_block(self, header: Header, received_at: float) -> BlockRead:
        """A new head of the live stream: start reading the logs of its block (and of any
        block before it not complete yet) by block hash, while the stream goes on."""
        start = self.store.complete + 1
        task = asyncio.ensure_future(self._read(start, header, received_at))
        return BlockRead(start, self.store.block_hash(start - 1), header, received_at, task)

    async def complete(self, read: BlockRead) -> None:
        """Apply what `read` found that the stream has not delivered, then publish the
        markers of its blocks. Read again if the store moved meanwhile (a catch-up)."""
        header = read.header
        store = self.store
        if store.complete >= header.number or store.block_hash(header.number) != header.hash:
            read.discard()  # done already, or a reorg since took the head off our chain
            return
        try:
            if read.start != store.complete + 1 or store.block_hash(read.start - 1) != read.parent:
                read.discard()
                read = self.read_block(header, read.received_at)
            headers, logs = await read.task
            await self._apply(read.start, header.number, headers, logs, read.received_at)
        except ChainMovedError as exc:
            _log.info("ingest.backfill.head_moved", block_number=header.number, reason=str(exc))
            await self.catch_up(read.received_at)

    async def adopt(self, log: LogMsg) -> None:
        """A creation log from the stream: follow its pool from there."""
        if self.adopter is not None:
            await self.adopter.adopt(self.adopter.births([log]))

    def _reader(self, progress: bool) -> SnapshotReader | HelperSnapshotReader:
        if self.snapshot_method == "helper" and self._helper_ok:
            return HelperSnapshotReader(self.rpc, progress)
        return SnapshotReader(self.rpc, progress)

    async def _pool_logs(self, addresses: list[str], created: LogMsg) -> list[LogMsg]:
        """The logs of these pools in the block of `created`, read by its hash."""
        number, query = created.block_number, _pool_query(addresses)
        return await self._logs(number, number, [created.block_hash], created.received_at, query)

    async def snapshot(self, latest: Header, received_at: float | None = None) -> None:
        started = time.perf_counter()
        if self.snapshot_method == "helper" and self._helper_ok is None:
            self._helper_ok = await helper_supported(self.rpc)
            if not self._helper_ok:
                _log.warning("ingest.snapshot.helper_unsupported", fallback="batch")
        entries = await self._reader(self.progress).read(self.pools(), latest.number, latest.hash)
        self.store.reset(entries, latest.number, latest.hash)
        self.stats.snapshots += 1
        self.stats.snapshot_seconds = time.perf_counter() - started
        for entry in entries:
            self.sink.publish(entry, False)
        self.sink.publish_block(latest.number, latest.hash, received_at)

    async def _catch_up_to(self, latest: Header, received_at: float | None) -> None:
        store = self.store
        if not store.ready:
            await self.snapshot(latest, received_at)
            return
        ancestor = await find_ancestor(self.rpc, store, latest)
        if ancestor is None:
            _log.warning("ingest.reorg.too_deep", head=store.head, node_head=latest.number)
            self.stats.reorgs += 1
            await self.snapshot(latest, received_at)
            return
        if ancestor < store.head:
            self.rollback(ancestor, store.head - ancestor)
            if store.complete >= latest.number:  # a shorter chain: nothing to re-apply
                self.sink.publish_block(latest.number, latest.hash, received_at)
        if store.complete < latest.number:
            start = store.complete + 1
            await self._apply_range(start, latest, received_at)
            self.stats.backfilled_blocks += latest.number - start + 1

    def rollback(self, ancestor: int, depth: int) -> None:
        self.stats.reorgs += 1
        self.stats.reorg_max_depth = max(self.stats.reorg_max_depth, depth)
        _log.info("ingest.reorg.rolled_back", to_block=ancestor, depth=depth)
        for entry in self.store.rollback_to(ancestor):
            self.sink.publish(entry, True)

    async def _apply_range(self, start: int, latest: Header, received_at: float | None) -> None:
        headers, logs = await self._read(start, latest, received_at)
        await self._apply(start, latest.number, headers, logs, received_at)

    async def _read(
        self, start: int, latest: Header, received_at: float | None
    ) -> tuple[dict[int, Header], list[LogMsg]]:
        """The headers (the last `depth` blocks) and wanted logs of blocks start..latest,
        checked to be one branch that extends ours."""
        end = latest.number
        numbers = list(range(max(start, end - self.store.depth + 1), end + 1))
        if numbers == [end]:
            headers = [latest]  # a head of the stream: no need to read it again
        else:
            headers = await self.rpc.headers(numbers) if numbers else []
        self._check_headers(start, headers, latest)
        by_number = {h.number: h for h in headers}
        logs = await self._logs(start, end, [h.hash for h in headers], received_at)
        self._check_branch(logs, by_number)
        return by_number, logs

    def _check_branch(self, logs: list[LogMsg], headers: dict[int, Header]) -> None:
        for log in logs:
            header = headers.get(log.block_number)
            if header is not None and header.hash != log.block_hash:
                raise ChainMovedError(f"log of block {log.block_number} from another branch")

    def _check_headers(self, start: int, headers: list[Header], latest: Header) -> None:
        if not headers:
            return
        if headers[-1].hash != latest.hash:
            raise ChainMovedError("the head changed")
        first = headers[0]
        parent = self.store.block_hash(first.number - 1)
        if parent is not None and first.parent_hash != parent:
            raise ChainMovedError(f"block {first.number} does not extend our chain")
        for previous, header in itertools.pairwise(headers):
            if header.parent_hash != previous.hash:
                raise ChainMovedError(f"block {header.number} does not extend {previous.number}")

    async def _logs(
        self,
        start: int,
        end: int,
        hashes: list[str],
        received_at: float | None,
        query: dict[str, Any] | None = None,
    ) -> list[LogMsg]:
        """The wanted logs of blocks start..end, in order (`query`: another filter); by
        block hash when `hashes` names every block and they are few."""
        base = query or self.log_filter()
        if end - start + 1 <= _BY_HASH_MAX and len(hashes) == end - start + 1:
            raw = await self._by_hash([{**base, "blockHash": h} for h in hashes])
        else:
            raw = []
            for lo in range(start, end + 1, self.log_range):
                hi = min(lo + self.log_range - 1, end)
                raw.extend(
                    await self.rpc.get_logs({**base, "fromBlock": hex(lo), "toBlock": hex(hi)})
                )
        # Logs read now stand for their block's arrival, when known, for the latency figures.
        at = received_at if received_at is not None else time.time()
        out: list[LogMsg] = []
        for item in raw:
            try:
                log = parse_log(item, at)
            except MalformedLogError as exc:
                self.stats.malformed_messages += 1
                _log.warning("ingest.backfill.log_malformed", error=str(exc))
                continue
            if query is not None or self.wanted(log):
                out.append(log)
        out.sort(key=lambda m: (m.block_number, m.log_index))
        return out

    async def _by_hash(self, filters: list[dict[str, Any]]) -> list[Any]:
        """The logs of a few blocks by hash: over the live WebSocket when there is one (far
        cheaper), else (or if it fails) in one HTTP batch."""
        if self.fast is not None:
            try:
                found = await asyncio.gather(*(self.fast("eth_getLogs", [f]) for f in filters))
                if all(isinstance(logs, list) for logs in found):
                    return [log for logs in found for log in logs]
            except ConnectionError as exc:
                _log.info("ingest.backfill.fast_read_failed", error=str(exc))
        results = await self.rpc.batch([("eth_getLogs", [f]) for f in filters])
        raw: list[Any] = []
        for result in results:
            if isinstance(result, Exception):
                raise result
            raw.extend(result)
        return raw

    async def _apply(
        self,
        start: int,
        end: int,
        headers: dict[int, Header],
        logs: list[LogMsg],
        received_at: float | None,
    ) -> None:
        store = self.store
        touched: dict[str, PoolEntry] = {}
        position = 0
        for number in range(start, end + 1):
            header = headers.get(number)
            if header is not None:
                store.note_block(number, header.hash, header.parent_hash)
            first = position
            while position < len(logs) and logs[position].block_number <= number:
                log = logs[position]
                position += 1
                if log.event is None or log.removed or isinstance(log.event, abi.Created):
                    continue
                entry = store.apply_log(
                    log.address, log.event, number, log.block_hash, log.log_index, log.received_at
                )
                if entry is not None:  # else the stream had delivered it already
                    self.stats.applied(1, log.received_at)
                    touched[log.address] = entry
            if self.adopter is not None and position > first:
                logs = await self._adopt_in_range(logs[first:position], number, end, headers, logs)
            store.complete = max(store.complete, number)
        for entry in touched.values():
            self.sink.publish(entry, False)
        # Every update of these blocks is out: their markers, oldest first.
        for number in range(start, end + 1):
            header = headers.get(number)
            if header is not None:
                self.sink.publish_block(number, header.hash, received_at)

    async def _adopt_in_range(
        self,
        block_logs: list[LogMsg],
        number: int,
        end: int,
        headers: dict[int, Header],
        logs: list[LogMsg],
    ) -> list[LogMsg]:
        """Follow the pools block `number` creates; the range's logs with theirs above it
        (they were not in the filter the range was read with)."""
        assert self.adopter is not None
        entries = await self.adopter.adopt(self.adopter.births(block_logs))
        if not entries or number >= end:
            return logs
        above = [headers[n].hash for n in range(number + 1, end + 1) if n in headers]
        query = _pool_query([e.meta.address for e in entries])
        more = await self._logs(number + 1, end, above, block_logs[0].received_at, query)
        self._check_branch(more, headers)
        return sorted([*logs, *more], key=lambda m: (m.block_number, m.log_index))


def _pool_query(addresses: list[str]) -> dict[str, Any]:
    """A log filter for these pools' events."""
    return {"address": addresses, "topics": [["0x" + t.hex() for t in abi.POOL_TOPICS]]}
