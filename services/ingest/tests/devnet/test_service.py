"""The service over a real socket on the devnet, discovery from the factories, the seed API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter
from websockets.asyncio.client import connect

from titan_common.clients import IngestClient
from titan_common.models import BlockComplete, IngestMessage, PoolUpdate
from titan_ingest.app import create_app
from titan_ingest.chain.config import ChainConfig
from titan_ingest.chain.rpc import RpcClient
from titan_ingest.compat import RealDataPipeline, WebSocketManager
from titan_ingest.discovery.factories import FactoryDiscovery
from titan_ingest.settings import IngestSettings
from titan_ingest.sync.pipeline import IngestPipeline

pytestmark = [pytest.mark.devnet]

MESSAGE: TypeAdapter[PoolUpdate | BlockComplete] = TypeAdapter(IngestMessage)


async def _ready(client: httpx.AsyncClient) -> None:
    async with asyncio.timeout(60):
        while (await client.get("/ready")).status_code != 200:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_service_rest_and_ws_on_the_devnet(
    reverted: Any, devnet_settings: Callable[..., IngestSettings], serve: Callable[..., Any]
) -> None:
    chain = reverted
    app = create_app(devnet_settings())
    pipeline: IngestPipeline = app.state.pipeline
    v3 = [p["address"] for p in chain.v3_pools()]
    async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as client:
        await _ready(client)
        body = (await client.get("/api/pools")).json()
        assert body["count"] == len(chain.manifest["pools"])
        one = (await client.get(f"/api/pools/{v3[0].lower()}")).json()
        assert one["address"] == v3[0] and one["ticks"] and one["log_index"] == -1
        missing = await client.get("/api/pools/0x" + "00" * 20)
        assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
        bad = await client.get("/api/pools/0xnope")
        assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_address")

        async with connect(f"ws://{host}/ws/pools?dex=uniswap_v3", max_size=None) as ws:
            snapshot = [PoolUpdate.model_validate_json(await ws.recv()) for _ in v3]
            assert {u.pool.address for u in snapshot} == set(v3)
            first = BlockComplete.model_validate_json(await ws.recv())
            assert first.block_number >= max(u.block_number for u in snapshot)
            await asyncio.to_thread(chain.flow_blocks, 6)
            target = chain.head
            updates: list[PoolUpdate] = []
            markers = [first]
            async with asyncio.timeout(30):
                while markers[-1].block_number < target:
                    message = MESSAGE.validate_json(await ws.recv())
                    if isinstance(message, BlockComplete):
                        assert message.block_number > markers[-1].block_number
                        markers.append(message)
                    else:
                        # Never an update of a block whose marker went out before it.
                        assert message.block_number > markers[-1].block_number
                        updates.append(message)
            assert [m.block_number for m in markers[1:]] == list(
                range(first.block_number + 1, target + 1)
            )
            assert updates and all(u.pool.dex == "uniswap_v3" and u.log_index >= 0 for u in updates)
            assert all(u.received_at is not None and u.block_hash is not None for u in updates)
            assert all(m.received_at is not None and m.block_hash for m in markers[1:])

        typed = IngestClient(f"http://{host}")
        try:
            stats = await typed.stats()
        finally:
            await typed.aclose()
        assert stats.pools == len(chain.manifest["pools"]) and stats.connected
        assert stats.events_applied > 0 and stats.lag_blocks <= 3
        assert stats.blocks_published >= 6 and stats.complete_block >= target
        metrics = (await client.get("/metrics")).text
        assert "ingest_events_applied_total" in metrics
    assert pipeline.store.ready


async def test_discovery_from_factory_logs_finds_the_manifest_pools(chain: Any) -> None:
    rpc = RpcClient([chain.rpc_url])
    try:
        config = ChainConfig.from_manifest(chain.manifest)
        found = await FactoryDiscovery(rpc, config, log_range=500).discover(chain.head, 0)
    finally:
        await rpc.close()
    expected = {p["address"]: p for p in chain.manifest["pools"]}
    assert {m.address for m in found} == set(expected)
    for meta in found:
        pool = expected[meta.address]
        assert (meta.dex, meta.kind, meta.token0, meta.token1) == (
            pool["dex"],
            pool["kind"],
            pool["token0"],
            pool["token1"],
        )
        if meta.kind == "v3":
            assert (meta.fee, meta.tick_spacing) == (pool["fee"], pool["tick_spacing"])


async def test_discovery_mode_pipeline_follows_the_same_pools(
    chain: Any, devnet_settings: Callable[..., IngestSettings]
) -> None:
    manifest = {**chain.manifest, "pools": []}  # nothing explicit: discover
    pipeline = IngestPipeline(devnet_settings(), ChainConfig.from_manifest(manifest))
    await pipeline.start()
    try:
        async with asyncio.timeout(60):
            await pipeline.wait_synced()
        assert set(pipeline.store.pools) == {p["address"] for p in chain.manifest["pools"]}
    finally:
        await pipeline.stop()


async def test_seed_api_facades(
    reverted: Any, devnet_settings: Callable[..., IngestSettings]
) -> None:
    chain = reverted
    settings = devnet_settings()
    manager = WebSocketManager(settings)
    received: list[PoolUpdate] = []
    v2 = [p for p in chain.manifest["pools"] if p["dex"] == "uniswap_v2"]
    try:
        assert await manager.connect("uniswap_v2", "devnet")
        manager.subscribe_pool_updates([p["address"] for p in v2])
        manager.register_callback(received.append)
        status = manager.get_connection_status()
        assert status["uniswap_v2:devnet"]["connected"]
        await asyncio.to_thread(chain.flow_blocks, 12)
        async with asyncio.timeout(20):
            while not received:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert {u.pool.dex for u in received} == {"uniswap_v2"}
    finally:
        await manager.disconnect()

    config = {"advanced_features": {"real_data_pipeline": {"cache_duration_seconds": 10}}}
    seed = RealDataPipeline(config, {31337: chain.rpc_url}, use_websockets=False, settings=settings)
    try:
        await seed.start()
        pool = v2[0]["address"]
        reserves = await seed.get_pool_reserves(31337, pool, "uniswap_v2")
        assert reserves is not None
        pair = chain.chain.contract("UniswapV2Pair", pool)
        r0, r1, _ = await asyncio.to_thread(pair.functions.getReserves().call)
        assert (reserves["reserve0"], reserves["reserve1"]) == (str(r0), str(r1))
        stats = seed.get_stats()
        assert stats["chains"][31337]["pools"] == len(chain.manifest["pools"])
    finally:
        await seed.stop()
