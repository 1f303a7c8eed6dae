"""Catch up over HTTP: from the last complete block to the node's head, reorg-safe.

One code path serves the first snapshot, every (re)connection of the WebSocket, every poll of
the HTTP fallback and every reorg: read the head; if our recent blocks left the canonical
chain, roll back to the common ancestor (or take a new snapshot when it is deeper than the
history kept); then read the missing blocks' logs (by block hash for short ranges, by range
with a hash check for long ones) and apply them in (block, log index) order. Logs already
applied are dropped by the pools' versions, so nothing is applied twice.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from titan_ingest.chain import abi
from titan_ingest.chain.abi import MalformedLogError
from titan_ingest.chain.config import PoolMeta
from titan_ingest.chain.rpc import Header, RpcClient
from titan_ingest.snapshot.helper import HelperSnapshotReader, helper_supported
from titan_ingest.snapshot.reader import SnapshotReader
from titan_ingest.state.pools import PoolEntry
from titan_ingest.state.store import PoolStore
from titan_ingest.sync.messages import LogMsg, parse_log
from titan_ingest.sync.reorg import find_ancestor
from titan_ingest.sync.stats import SyncStats

_log = structlog.get_logger("titan_ingest.backfill")

Publish = Callable[[PoolEntry, bool], None]  # (pool, removed)

_BY_HASH_MAX = 16  # ranges up to this many blocks are read block by block, by hash
_ATTEMPTS = 5


class ChainMovedError(Exception):
    """The chain changed while we read it; read again."""


class Backfiller:
    def __init__(
        self,
        rpc: RpcClient,
        store: PoolStore,
        stats: SyncStats,
        pools: Callable[[], Sequence[PoolMeta]],
        publish: Publish,
        log_range: int = 2000,
        progress: bool = False,
        snapshot_method: str = "helper",
    ) -> None:
        self.rpc = rpc
        self.store = store
        self.stats = stats
        self.pools = pools
        self.publish = publish
        self.log_range = log_range
        self.progress = progress
        self.snapshot_method = snapshot_method
        self._helper_ok: bool | None = None

    def log_filter(self) -> dict[str, Any]:
        return {
            "address": [m.address for m in self.pools()],
            "topics": [["0x" + t.hex() for t in abi.POOL_TOPICS]],
        }

    async def catch_up(self, received_at: float | None = None) -> None:
        """Bring the store to the node's head; retried while the chain moves under us."""
        for _ in range(_ATTEMPTS):
            latest = await self.rpc.header("latest")
            self.stats.node_seen(latest.number, received_at or time.time())
            try:
                await self._catch_up_to(latest)
                self.stats.catch_ups += 1
                return
            except ChainMovedError as exc:
                _log.info("ingest.backfill.retried", reason=str(exc))
        raise ChainMovedError("the chain kept moving while it was read")

    async def snapshot(self, latest: Header) -> None:
        started = time.perf_counter()
        reader: SnapshotReader | HelperSnapshotReader = SnapshotReader(self.rpc, self.progress)
        if self.snapshot_method == "helper":
            if self._helper_ok is None:
                self._helper_ok = await helper_supported(self.rpc)
                if not self._helper_ok:
                    _log.warning("ingest.snapshot.helper_unsupported", fallback="batch")
            if self._helper_ok:
                reader = HelperSnapshotReader(self.rpc, self.progress)
        entries = await reader.read(self.pools(), latest.number, latest.hash)
        self.store.reset(entries, latest.number, latest.hash)
        self.stats.snapshots += 1
        self.stats.snapshot_seconds = time.perf_counter() - started
        for entry in entries:
            self.publish(entry, False)

    async def _catch_up_to(self, latest: Header) -> None:
        store = self.store
        if not store.ready:
            await self.snapshot(latest)
            return
        ancestor = await find_ancestor(self.rpc, store, latest)
        if ancestor is None:
            _log.warning("ingest.reorg.too_deep", head=store.head, node_head=latest.number)
            self.stats.reorgs += 1
            await self.snapshot(latest)
            return
        if ancestor < store.head:
            self.rollback(ancestor, store.head - ancestor)
        if store.complete < latest.number:
            await self._apply_range(store.complete + 1, latest)

    def rollback(self, ancestor: int, depth: int) -> None:
        self.stats.reorgs += 1
        self.stats.reorg_max_depth = max(self.stats.reorg_max_depth, depth)
        _log.info("ingest.reorg.rolled_back", to_block=ancestor, depth=depth)
        for entry in self.store.rollback_to(ancestor):
            self.publish(entry, True)

    async def _apply_range(self, start: int, latest: Header) -> None:
        end = latest.number
        numbers = range(max(start, end - self.store.depth + 1), end + 1)
        headers = await self.rpc.headers(list(numbers)) if numbers else []
        self._check_headers(start, headers, latest)
        by_number = {h.number: h for h in headers}
        logs = await self._logs(start, end, headers)
        for log in logs:
            header = by_number.get(log.block_number)
            if header is not None and header.hash != log.block_hash:
                raise ChainMovedError(f"log of block {log.block_number} from another branch")
        self._apply(start, end, by_number, logs)
        self.stats.backfilled_blocks += end - start + 1

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

    async def _logs(self, start: int, end: int, headers: list[Header]) -> list[LogMsg]:
        base = self.log_filter()
        if end - start + 1 <= _BY_HASH_MAX and len(headers) == end - start + 1:
            filters = [{**base, "blockHash": h.hash} for h in headers]
            results = await self.rpc.batch([("eth_getLogs", [f]) for f in filters])
            raw: list[Any] = []
            for result in results:
                if isinstance(result, Exception):
                    raise result
                raw.extend(result)
        else:
            raw = []
            for lo in range(start, end + 1, self.log_range):
                hi = min(lo + self.log_range - 1, end)
                raw.extend(
                    await self.rpc.get_logs({**base, "fromBlock": hex(lo), "toBlock": hex(hi)})
                )
        now = time.time()
        out: list[LogMsg] = []
        for item in raw:
            try:
                out.append(parse_log(item, now))
            except MalformedLogError as exc:
                self.stats.malformed_messages += 1
                _log.warning("ingest.backfill.log_malformed", error=str(exc))
        out.sort(key=lambda m: (m.block_number, m.log_index))
        return out

    def _apply(self, start: int, end: int, headers: dict[int, Header], logs: list[LogMsg]) -> None:
        store = self.store
        touched: dict[str, PoolEntry] = {}
        position = 0
        for number in range(start, end + 1):
            header = headers.get(number)
            if header is not None:
                store.note_block(number, header.hash, header.parent_hash)
            while position < len(logs) and logs[position].block_number <= number:
                log = logs[position]
                position += 1
                if log.event is None or log.removed:
                    continue
                entry = store.apply_log(
                    log.address, log.event, number, log.block_hash, log.log_index, log.received_at
                )
                if entry is None:
                    self.stats.events_stale += 1
                else:
                    self.stats.applied(1, log.received_at)
                    touched[log.address] = entry
            store.complete = max(store.complete, number)
        for entry in touched.values():
            self.publish(entry, False)
