"""The API in-process, over a store filled by hand (no chain): shapes and error cases."""

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from titan_common.clients import IngestClient, ServiceError
from titan_common.models import BlockComplete, IngestPoolV2, PoolUpdate
from titan_ingest.app import create_app
from titan_ingest.chain.abi import Mint, Sync, checksum
from titan_ingest.chain.config import ChainConfig, PoolMeta
from titan_ingest.settings import IngestSettings
from titan_ingest.state.pools import PoolEntry
from titan_ingest.sync.pipeline import IngestPipeline

V2 = checksum("0x" + "a1" * 20)
V3 = checksum("0x" + "b2" * 20)
T0 = "0x" + "22" * 20
T1 = "0x" + "33" * 20
T2 = "0x" + "44" * 20


@pytest.fixture
def pipeline(tmp_path: Path) -> IngestPipeline:
    chain = ChainConfig(chain_id=31337, name="test", dexes=[])
    settings = IngestSettings(
        ingest_rpc_urls=["http://127.0.0.1:9"], ingest_client_queue_size=4, _env_file=None
    )
    pipeline = IngestPipeline(settings, chain)
    v2 = PoolEntry(PoolMeta(V2, "sushiswap", "v2", T0, T1), 7, -1, reserve0=10**18, reserve1=5)
    v3 = PoolEntry(
        PoolMeta(V3, "uniswap_v3", "v3", T1, T2, fee=500, tick_spacing=10),
        7,
        -1,
        sqrt_price_x96=2**96,
        tick=0,
        liquidity=0,
    )
    v3.apply(Mint(-10, 10, 123))
    pipeline.store.reset([v2, v3], 7, "0x" + "00" * 32)
    return pipeline


@pytest.fixture
async def client(pipeline: IngestPipeline) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(pipeline.settings, pipeline, run_pipeline=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as c:
        yield c


@pytest.fixture
async def typed(pipeline: IngestPipeline) -> AsyncIterator[IngestClient]:
    """The shared typed client over the app in process."""
    app = create_app(pipeline.settings, pipeline, run_pipeline=False)
    client = IngestClient("http://ingest", transport=httpx.ASGITransport(app=app))
    try:
        yield client
    finally:
        await client.aclose()


async def test_pools_list_in_the_wire_shape(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/pools")).json()
    v3 = next(p for p in body["pools"] if p["kind"] == "v3")
    assert v3["liquidity"] == "123" and v3["ticks"][0] == {"index": -10, "liquidity_net": "123"}
    assert (v3["block_number"], v3["log_index"]) == (7, -1)


async def test_typed_client_reads_pools_and_stats(typed: IngestClient) -> None:
    listed = await typed.pools()
    assert listed.count == 2 and listed.block_number == 7
    assert [p.address for p in (await typed.pools(dex=["sushiswap"])).pools] == [V2]
    one = await typed.pool(V2.lower())
    assert isinstance(one, IngestPoolV2) and one.reserve0 == 10**18 and one.log_index == -1
    with pytest.raises(ServiceError) as missing:
        await typed.pool("0x" + "99" * 20)
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    with pytest.raises(ServiceError) as bad:
        await typed.pool("0x12")
    assert (bad.value.status, bad.value.code) == (422, "invalid_address")
    stats = await typed.stats()
    assert stats.pools == 2 and stats.complete_block == 7


async def test_pools_filters(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/pools", params={"dex": "uniswap_v3"})).json()["count"] == 1
    both = await client.get("/api/pools", params={"token": "0x" + T1[2:].upper()})
    assert both.json()["count"] == 2
    assert (await client.get("/api/pools", params={"pool": f"{V2},{V3}"})).json()["count"] == 2
    bad = await client.get("/api/pools", params={"dex": "pancake"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_filter"
    bad = await client.get("/api/pools", params={"token": "0x12"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_address"


async def test_one_pool_any_case(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"/api/pools/{V2.lower()}")).json()
    assert body["reserve0"] == str(10**18) and body["address"] != V2.lower()


async def test_unknown_pool_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/pools/0x" + "99" * 20)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("address", ["0x123", "hello", "0x" + "zz" * 20])
async def test_malformed_address_is_422(client: httpx.AsyncClient, address: str) -> None:
    response = await client.get(f"/api/pools/{address}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_address"


async def test_health_ready_stats_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok", "service": "ingest"}
    ready = await client.get("/ready")
    assert ready.status_code == 503  # the node never answered
    assert ready.json()["checks"]["chain"] != "ok"
    assert (await client.get("/api/stats")).json()["pools"] == 2
    metrics = (await client.get("/metrics")).text
    assert "ingest_pools 2.0" in metrics and "ingest_reorgs_total" in metrics


async def test_ws_sends_the_snapshot_then_updates(
    pipeline: IngestPipeline, serve: Callable[[Any], Any]
) -> None:
    app = create_app(pipeline.settings, pipeline, run_pipeline=False)
    async with serve(app) as host, connect(f"ws://{host}/ws/pools?dex=sushiswap") as ws:
        first = PoolUpdate.model_validate_json(await ws.recv())
        assert first.pool.address.lower() == V2.lower() and first.log_index == -1
        # The snapshot is complete at the store's block: a marker says so.
        marker = BlockComplete.model_validate_json(await ws.recv())
        assert (marker.block_number, marker.block_hash) == (7, "0x" + "00" * 32)
        entry = pipeline.store.apply_log(V2, Sync(1, 2), 8, "0x" + "11" * 32, 3, 1234.5)
        assert entry is not None
        pipeline.publish(entry, False)
        pipeline.publish_block(8, "0x" + "11" * 32, 1234.0)
        update = PoolUpdate.model_validate_json(await asyncio.wait_for(ws.recv(), 5))
        assert (update.block_number, update.log_index, update.received_at) == (8, 3, 1234.5)
        assert update.pool.reserve0 == 1  # type: ignore[union-attr]
        # Markers go to every client, whatever its filter, after their block's updates.
        marker = BlockComplete.model_validate_json(await asyncio.wait_for(ws.recv(), 5))
        assert (marker.type, marker.block_number, marker.received_at) == ("block", 8, 1234.0)


async def test_ws_bad_filter_is_refused_with_the_error_body(
    pipeline: IngestPipeline, serve: Callable[[Any], Any]
) -> None:
    app = create_app(pipeline.settings, pipeline, run_pipeline=False)
    async with serve(app) as host:
        with pytest.raises(InvalidStatus) as denied:
            async with connect(f"ws://{host}/ws/pools?pool=0x1"):
                pass
    assert denied.value.response.status_code == 422
    assert b"invalid_address" in denied.value.response.body


async def test_slow_ws_client_is_dropped_with_a_reason(
    pipeline: IngestPipeline, serve: Callable[[Any], Any]
) -> None:
    app = create_app(pipeline.settings, pipeline, run_pipeline=False)
    async with serve(app) as host, connect(f"ws://{host}/ws/pools") as ws:
        await ws.recv()  # the snapshot is under way: the client is registered
        for index in range(50):  # far more than the queue of 4, with no chance to send
            entry = pipeline.store.apply_log(V2, Sync(index, 1), 9, "0x" + "22" * 32, index, 1.0)
            assert entry is not None
            pipeline.publish(entry, False)
        with pytest.raises(ConnectionClosedError) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    assert "slow consumer" in closed.value.rcvd.reason
    assert pipeline.hub.dropped_clients == 1 and not pipeline.hub.subscribers
