"""The ingest pipeline put together: discovery, snapshot, a source, the sequencer, the hub.

`start()` returns at once; the pipeline sets itself up in the background (retrying while the
node is unreachable) so the service answers `/health` and a not-ready `/ready` meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import structlog

from titan_ingest.chain.config import ChainConfig, PoolMeta
from titan_ingest.chain.rpc import RpcClient
from titan_ingest.discovery.factories import FactoryDiscovery, explicit_pools
from titan_ingest.publish.hub import Hub
from titan_ingest.settings import IngestSettings
from titan_ingest.state.pools import PoolEntry
from titan_ingest.state.store import PoolStore
from titan_ingest.sync.backfill import Backfiller
from titan_ingest.sync.live import WebSocketSource, backoff_delay
from titan_ingest.sync.messages import Message
from titan_ingest.sync.polling import PollingSource
from titan_ingest.sync.sequencer import Sequencer
from titan_ingest.sync.stats import SyncStats

_log = structlog.get_logger("titan_ingest.pipeline")

Listener = Callable[[PoolEntry, bool], None]


def load_chain(settings: IngestSettings) -> ChainConfig:
    path = settings.chain_config_path()
    if path is not None:
        return ChainConfig.load(path)
    return ChainConfig.load_manifest(settings.devnet_manifest)


def endpoints(settings: IngestSettings, chain: ChainConfig) -> tuple[list[str], list[str]]:
    """HTTP and WebSocket endpoints: INGEST_*_URLS, else CHAIN_*_URL when set, else the
    chain config's (the devnet's manifest), else the defaults."""
    given = settings.model_fields_set
    rpc = settings.ingest_rpc_urls or (
        [settings.chain_rpc_url]
        if "chain_rpc_url" in given or not chain.rpc_urls
        else chain.rpc_urls
    )
    ws = settings.ingest_ws_urls or (
        [settings.chain_ws_url] if "chain_ws_url" in given or not chain.ws_urls else chain.ws_urls
    )
    return rpc, ws


class IngestPipeline:
    def __init__(self, settings: IngestSettings, chain: ChainConfig) -> None:
        self.settings = settings
        self.chain = chain
        self.rpc_urls, self.ws_urls = endpoints(settings, chain)
        self.stats = SyncStats()
        self.store = PoolStore(settings.ingest_reorg_depth)
        self.hub = Hub(chain.chain_id, settings.ingest_client_queue_size)
        self.rpc = RpcClient(
            self.rpc_urls,
            settings.ingest_request_timeout,
            settings.ingest_batch_size,
            settings.ingest_batch_concurrency,
        )
        self.metas: list[PoolMeta] = []
        self.listeners: list[Listener] = []
        self.queue: asyncio.Queue[Message] = asyncio.Queue()
        discovery = (
            FactoryDiscovery(self.rpc, chain, settings.ingest_log_range)
            if settings.ingest_follow_new_pools and chain.dexes
            else None
        )
        self.backfill = Backfiller(
            self.rpc,
            self.store,
            self.stats,
            lambda: self.metas,
            self,
            discovery,
            settings.ingest_log_range,
            settings.ingest_progress,
            settings.ingest_snapshot_method,
        )
        self.sequencer = Sequencer(self.store, self.backfill, self.stats, self.publish)
        self.source: WebSocketSource | PollingSource | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.started_at: float | None = None

    # -- the stages' output (the backfill's `Sink`)

    def publish(self, entry: PoolEntry, removed: bool) -> None:
        self.hub.publish(entry, removed)
        for listener in self.listeners:
            listener(entry, removed)
        if entry.received_at is not None and entry.log_index >= 0 and not removed:
            self.stats.publish_latencies.append(time.time() - entry.received_at)

    def publish_block(self, number: int, block_hash: str | None, received_at: float | None) -> None:
        self.hub.publish_block(number, block_hash, received_at)

    def follow(self, metas: list[PoolMeta]) -> None:
        """New pools to follow: in the log filters from now on (the WebSocket resubscribes)."""
        known = {m.address for m in self.metas}
        self.metas.extend(m for m in metas if m.address not in known)
        if self.source is not None:
            self.source.refresh()

    # -- life cycle

    async def start(self) -> None:
        if self._task is None:
            self.started_at = time.time()
            self._task = asyncio.create_task(self._run(), name="ingest-pipeline")

    async def stop(self) -> None:
        """Stop the sync and close the connections; idempotent."""
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if not self._closed:
            self._closed = True
            await self.rpc.close()

    async def wait_synced(self) -> None:
        await self.sequencer.synced.wait()

    async def _run(self) -> None:
        await self._discover()
        source: WebSocketSource | PollingSource
        settings = self.settings
        if settings.use_websockets:
            source = WebSocketSource(
                self.ws_urls,
                self.backfill.log_filter,
                self.stats,
                poll_interval=settings.real_data_polling_interval,
                min_delay=settings.ingest_reconnect_min_delay,
                max_delay=settings.ingest_reconnect_max_delay,
                stall_timeout=settings.ingest_stall_timeout,
                request_timeout=settings.ingest_request_timeout,
            )
        else:
            source = PollingSource(settings.real_data_polling_interval, self.stats)
        if isinstance(source, WebSocketSource):
            self.backfill.fast = source.request  # a block's logs over the live socket
        self.source = source
        async with asyncio.TaskGroup() as group:
            group.create_task(source.run(self.queue), name="ingest-source")
            group.create_task(self.sequencer.run(self.queue), name="ingest-sequencer")

    async def _discover(self) -> None:
        """The pools to follow; retried with backoff while the node cannot be read."""
        attempt = 0
        while True:
            try:
                self.metas = await self._find_pools()
                _log.info("ingest.pools.found", pools=len(self.metas), chain_id=self.chain.chain_id)
                return
            except Exception as exc:  # the node is down or refused: retry, never crash
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                _log.warning("ingest.pools.discovery_failed", error=self.stats.last_error)
                await asyncio.sleep(
                    backoff_delay(
                        attempt,
                        self.settings.ingest_reconnect_min_delay,
                        self.settings.ingest_reconnect_max_delay,
                    )
                )
                attempt += 1

    async def _find_pools(self) -> list[PoolMeta]:
        pools = {m.address: m for m in explicit_pools(self.chain)}
        if self.settings.ingest_discover or not pools:
            head = await self.rpc.block_number()
            discovery = FactoryDiscovery(self.rpc, self.chain, self.settings.ingest_log_range)
            found = await discovery.discover(head, self.settings.ingest_discovery_start_block)
            for meta in found:
                pools.setdefault(meta.address, meta)
        return list(pools.values())

    # -- what the API reads

    def lag_blocks(self) -> int:
        if not self.store.ready or self.stats.node_head < 0:
            return 0
        return max(0, self.stats.node_head - self.store.head)

    def lag_ms(self) -> float:
        now = time.time()
        if self.sequencer.handling_since is not None:
            return max(0.0, (now - self.sequencer.handling_since) * 1000)
        if self.lag_blocks() > 0 and self.stats.node_head_at is not None:
            return max(0.0, (now - self.stats.node_head_at) * 1000)
        return 0.0

    def readiness(self) -> tuple[bool, dict[str, str]]:
        checks: dict[str, str] = {}
        checks["snapshot"] = "ok" if self.store.ready else "syncing"
        lag = self.lag_blocks()
        max_lag = self.settings.ingest_max_lag_blocks
        checks["lag"] = "ok" if lag <= max_lag else f"behind the head by {lag} blocks"
        contact = self.stats.last_node_contact
        stale = contact is None or time.time() - contact > max(
            30.0, 5 * self.settings.real_data_polling_interval
        )
        checks["chain"] = "ok" if not stale else f"node not answering ({self.stats.last_error})"
        return all(v == "ok" for v in checks.values()), checks

    def stats_view(self) -> dict[str, Any]:
        s = self.stats
        return {
            "chain_id": self.chain.chain_id,
            "mode": s.mode,
            "connected": s.source_connected,
            "endpoint": s.endpoint,
            "pools": len(self.store.pools),
            "pools_created": s.pools_created,
            "block_number": self.store.head,
            "complete_block": self.store.complete,
            "node_head": s.node_head,
            "lag_blocks": self.lag_blocks(),
            "lag_ms": round(self.lag_ms(), 3),
            "events_applied": s.events_applied,
            "events_stale": s.events_stale,
            "events_late": s.events_late,
            "events_per_second": round(s.events_per_second(), 3),
            "malformed_messages": s.malformed_messages,
            "reconnects": s.reconnects,
            "reorgs": s.reorgs,
            "reorg_max_depth": s.reorg_max_depth,
            "snapshots": s.snapshots,
            "snapshot_seconds": s.snapshot_seconds,
            "backfilled_blocks": s.backfilled_blocks,
            "catch_ups": s.catch_ups,
            "rpc_failovers": self.rpc.failovers,
            "ws_clients": len(self.hub.subscribers),
            "ws_clients_dropped": self.hub.dropped_clients,
            "updates_published": self.hub.published,
            "blocks_published": self.hub.blocks_published,
            "publish_latency_ms": s.publish_latency_ms(),
            "last_error": s.last_error,
        }
