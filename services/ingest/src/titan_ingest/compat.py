"""The seed's library API, kept usable: thin facades over the ingest pipeline.

manager = WebSocketManager()
await manager.connect("uniswap_v2", "ethereum")       # a chain config name, or "devnet"
manager.subscribe_pool_updates(["0x..."])             # only these pools reach callbacks
manager.register_callback(lambda update: ...)         # a PoolUpdate, sync or async callable
manager.get_connection_status()

pipeline = RealDataPipeline(config, {1: "https://..."}, use_websockets=True)
await pipeline.start()
await pipeline.get_pool_reserves(1, "0x...", "uniswap_v2")   # 10 s freshness cache
await pipeline.scan_opportunities([1], [("0xA", "0xB")])      # asks the scanner over HTTP
pipeline.get_stats()
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx

from titan_common.models import PoolUpdate, parse_address
from titan_ingest.chain import abi
from titan_ingest.chain.config import ChainConfig
from titan_ingest.publish.hub import update_message
from titan_ingest.settings import CHAINS_DIR, IngestSettings
from titan_ingest.state.pools import PoolEntry
from titan_ingest.sync.pipeline import IngestPipeline

Callback = Callable[[PoolUpdate], Awaitable[None] | None]


def _chain_config(chain: str | int, settings: IngestSettings) -> ChainConfig:
    if str(chain) in ("devnet", "31337"):
        return ChainConfig.load_manifest(settings.devnet_manifest)
    names = {"1": "ethereum", "137": "polygon"}
    name = names.get(str(chain), str(chain))
    return ChainConfig.load(Path(CHAINS_DIR / f"{name}.json"))


class WebSocketManager:
    """The seed's WebSocket manager: one live pipeline per chain, DEXes chosen by `connect`."""

    def __init__(self, settings: IngestSettings | None = None) -> None:
        self.settings = settings or IngestSettings()
        self.pipelines: dict[str, IngestPipeline] = {}
        self.dexes: dict[str, set[str]] = {}
        self.pools: set[str] = set()
        self.callbacks: list[Callback] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def connect(self, dex_name: str, chain: str | int) -> bool:
        """Follow `dex_name` on `chain`; True once the chain's state is synced."""
        key = str(chain)
        self.dexes.setdefault(key, set()).add(dex_name)
        if key not in self.pipelines:
            config = _chain_config(chain, self.settings)
            pipeline = IngestPipeline(self.settings, config)
            pipeline.listeners.append(lambda entry, removed: self._dispatch(key, entry, removed))
            self.pipelines[key] = pipeline
            await pipeline.start()
        await self.pipelines[key].wait_synced()
        return True

    def subscribe_pool_updates(self, pools: Iterable[str | Mapping[str, Any]]) -> None:
        for pool in pools:
            address = pool["address"] if isinstance(pool, Mapping) else pool
            self.pools.add(parse_address(address))

    def register_callback(self, callback: Callback) -> None:
        self.callbacks.append(callback)

    def get_connection_status(self) -> dict[str, dict[str, Any]]:
        status = {}
        for chain, pipeline in self.pipelines.items():
            stats = pipeline.stats_view()
            for dex in sorted(self.dexes.get(chain, ())):
                status[f"{dex}:{chain}"] = {
                    "connected": stats["connected"],
                    "mode": stats["mode"],
                    "block_number": stats["block_number"],
                    "lag_blocks": stats["lag_blocks"],
                    "reconnects": stats["reconnects"],
                }
        return status

    async def disconnect(self) -> None:
        for pipeline in self.pipelines.values():
            await pipeline.stop()
        self.pipelines.clear()

    def _dispatch(self, chain: str, entry: PoolEntry, removed: bool) -> None:
        if entry.meta.dex not in self.dexes.get(chain, ()):
            return
        if self.pools and entry.meta.address not in self.pools:
            return
        if not self.callbacks:
            return
        pipeline = self.pipelines[chain]
        update = PoolUpdate.model_validate(update_message(entry, pipeline.chain.chain_id, removed))
        for callback in self.callbacks:
            result = callback(update)
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)


def _rpc_url(connection: Any) -> str:
    """An RPC URL from what the seed's `web3_pool` held: a URL, or a (Async)Web3 instance."""
    if isinstance(connection, str):
        return connection
    provider = getattr(connection, "provider", None)
    url = getattr(provider, "endpoint_uri", None)
    if not url:
        raise ValueError(f"cannot find an RPC URL in {connection!r}")
    return str(url)


class RealDataPipeline:
    """The seed's real-data pipeline: in-process ingest per chain, reserves with a freshness
    cache, opportunity scans delegated to the scanner."""

    def __init__(
        self,
        config: Mapping[str, Any],
        web3_pool: Mapping[int, Any],
        use_websockets: bool = True,
        settings: IngestSettings | None = None,
    ) -> None:
        seed = config.get("advanced_features", {}).get("real_data_pipeline", {})
        base = settings or IngestSettings()
        self.settings = base.model_copy(
            update={
                "use_websockets": seed.get("use_websockets", use_websockets) and use_websockets,
                "real_data_polling_interval": seed.get(
                    "polling_interval_seconds", base.real_data_polling_interval
                ),
            }
        )
        self.cache_seconds = float(seed.get("cache_duration_seconds", 10.0))
        self.enabled = bool(seed.get("enabled", True))
        self.urls = {int(chain_id): _rpc_url(conn) for chain_id, conn in web3_pool.items()}
        self.pipelines: dict[int, IngestPipeline] = {}
        self._cache: dict[tuple[int, str], tuple[float, dict[str, Any]]] = {}
        self.cache_hits = 0
        self.cache_misses = 0

    async def start(self) -> None:
        for chain_id, url in self.urls.items():
            chain = _chain_config(chain_id, self.settings)
            ws = url.replace("https://", "wss://").replace("http://", "ws://")
            settings = self.settings.model_copy(
                update={"ingest_rpc_urls": [url], "ingest_ws_urls": [ws]}
            )
            pipeline = IngestPipeline(settings, chain)
            self.pipelines[chain_id] = pipeline
            await pipeline.start()
        await asyncio.gather(*(p.wait_synced() for p in self.pipelines.values()))

    async def stop(self) -> None:
        for pipeline in self.pipelines.values():
            await pipeline.stop()

    async def get_pool_reserves(
        self, chain_id: int, pool_address: str, dex: str
    ) -> dict[str, Any] | None:
        """The pool's state (reserves for V2), from ingest or read live and cached 10 s."""
        address = parse_address(pool_address)
        pipeline = self.pipelines.get(chain_id)
        entry = pipeline.store.pools.get(address) if pipeline else None
        if entry is not None:
            return {**entry.state_wire(), "block_number": entry.block_number, "source": "ingest"}
        key = (chain_id, address)
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.cache_seconds:
            self.cache_hits += 1
            return cached[1]
        self.cache_misses += 1
        fetched = await self._fetch_reserves(chain_id, address, dex)
        if fetched is not None:
            self._cache[key] = (time.monotonic(), fetched)
        return fetched

    async def _fetch_reserves(self, chain_id: int, address: str, dex: str) -> dict[str, Any] | None:
        pipeline = self.pipelines.get(chain_id)
        if pipeline is None or dex == "uniswap_v3":
            return None
        result = await pipeline.rpc.request(
            "eth_call", [{"to": address, "data": abi.call_data(abi.GET_RESERVES)}, "latest"]
        )
        reserve0, reserve1, stamp = abi.decode_words(
            ("uint112", "uint112", "uint32"), abi.to_bytes(result)
        )
        return {
            "address": address,
            "dex": dex,
            "reserve0": str(reserve0),
            "reserve1": str(reserve1),
            "block_timestamp_last": stamp,
            "source": "chain",
        }

    async def scan_opportunities(
        self, chains: Iterable[int], token_pairs: Iterable[tuple[str, str]]
    ) -> list[dict[str, Any]]:
        """The scanner's recent opportunities on `chains` that trade one of `token_pairs`."""
        wanted_chains = set(chains)
        pairs = {frozenset(parse_address(t) for t in pair) for pair in token_pairs}
        async with httpx.AsyncClient(base_url=self.settings.scanner_url, timeout=5.0) as client:
            response = await client.get("/api/opportunities", params={"limit": 500})
            response.raise_for_status()
            items: list[dict[str, Any]] = response.json().get("items", [])
        out = []
        for item in items:
            if wanted_chains and item.get("chain_id") not in wanted_chains:
                continue
            hops = {frozenset((h["token_in"], h["token_out"])) for h in item.get("hops", [])}
            if pairs and not hops & pairs:
                continue
            out.append(item)
        return out

    def get_stats(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "chains": {cid: p.stats_view() for cid, p in self.pipelines.items()},
            "cache": {
                "entries": len(self._cache),
                "hits": self.cache_hits,
                "misses": self.cache_misses,
                "duration_seconds": self.cache_seconds,
            },
        }
