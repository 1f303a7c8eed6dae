"""The HTTP and WebSocket API in process: shapes, paging, filters, errors, metrics."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from titan_scanner.testing import wait_for

OPENAPI = Path(__file__).parents[3] / "openapi.json"


async def _publish_two_blocks(svc: Any) -> list[Any]:
    cheap = svc.pools.v2(svc.weth, svc.usdc, 100 * 10**18, 200_000 * 10**6)
    dear = svc.pools.v2(svc.weth, svc.usdc, 100 * 10**18, 220_000 * 10**6, dex="sushiswap")
    svc.update(cheap, 10)
    svc.update(dear, 10, 1)
    svc.block(10)
    scanner = svc.runtime.scanner
    await wait_for(lambda: scanner.stats.published >= 1)
    svc.update(dear.model_copy(update={"reserve1": 230_000 * 10**6}), 11, received_at=time.time())
    svc.block(11)
    await wait_for(lambda: scanner.stats.published >= 2)
    await wait_for(lambda: scanner.repository is not None)
    return list(scanner.publisher.recent)


async def test_health_and_ready(service: Any) -> None:
    assert (await service.client.get("/health")).json() == {"status": "ok", "service": "scanner"}
    ready = await service.client.get("/ready")
    assert ready.status_code == 503  # no ingest in this test
    checks = ready.json()["checks"]
    assert checks["ingest"].startswith("down")
    assert checks["database"] == "ok"


async def test_list_newest_first_with_cursor(service: Any) -> None:
    published = await _publish_two_blocks(service)
    client = service.client
    await wait_for(lambda: True)
    first = (await client.get("/api/opportunities", params={"limit": 1})).json()
    assert [o["id"] for o in first["items"]] == [published[-1].id]
    assert first["next"] is not None
    second = (
        await client.get("/api/opportunities", params={"limit": 1, "cursor": first["next"]})
    ).json()
    assert [o["id"] for o in second["items"]] == [published[0].id]
    assert second["next"] is None
    item = first["items"][0]
    assert isinstance(item["amount_in"], str) and isinstance(item["net_profit"], str)


async def test_filters_and_errors(service: Any) -> None:
    published = await _publish_two_blocks(service)
    client = service.client

    async def ids(**params: Any) -> list[str]:
        body = (await client.get("/api/opportunities", params=params)).json()
        return [o["id"] for o in body["items"]]

    assert await ids(block_from=11) == [published[-1].id]
    assert await ids(block_to=10) == [published[0].id]
    assert await ids(dex="sushiswap") == [o.id for o in reversed(published)]
    assert await ids(dex="quickswap") == []
    assert await ids(token=service.usdc.lower()) == [o.id for o in reversed(published)]
    assert await ids(token=service.dai) == []
    top = max(published, key=lambda o: o.net_profit)
    assert await ids(min_profit=str(top.net_profit)) == [top.id]

    bad = await client.get("/api/opportunities", params={"token": "0x123"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_address"
    bad = await client.get("/api/opportunities", params={"min_profit": "-5"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    bad = await client.get("/api/opportunities", params={"dex": "pancake"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_failed"
    missing = await client.get("/api/opportunities/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_stats_pools_gas_and_metrics(service: Any) -> None:
    await _publish_two_blocks(service)
    client = service.client
    stats = (await client.get("/api/stats")).json()
    assert stats["pools"] == 2 and stats["cycles_indexed"] == 2
    assert stats["opportunities_published"] == 2 and stats["opportunities_stored"] == 2
    assert stats["latency"]["count"] == 2 and stats["latency"]["p50_ms"] is not None
    assert sum(stats["latency"]["histogram_counts"]) == 2
    assert stats["gas"]["source"] == "ml"
    pools = (await client.get("/api/pools")).json()
    assert {p["dex"] for p in pools} == {"uniswap_v2", "sushiswap"}
    assert all(p["cycles"] == 2 for p in pools)
    gas = (await client.get("/api/gas")).json()
    assert [p["block_number"] for p in gas] == [11, 12]
    metrics = (await client.get("/metrics")).text
    for name in (
        "scanner_stage_seconds_bucket",
        "scanner_block_to_publish_seconds_bucket",
        'stage="arrival"',  # block 11 says when it reached ingest
        'stage="queue"',
        'stage="engine"',
        'stage="screen"',
        "scanner_opportunities_total 2.0",
    ):
        assert name in metrics


async def test_dashboard_page(service: Any) -> None:
    page = await service.client.get("/")
    assert page.status_code == 200 and "Titan scanner" in page.text


def test_openapi_is_committed_and_current(clean_environ: None) -> None:
    from titan_scanner.app import create_app
    from titan_scanner.settings import ScannerSettings

    app = create_app(
        ScannerSettings(base_tokens=["0x" + "11" * 20], scanner_native_token="0x" + "11" * 20)
    )
    current = json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"
    assert OPENAPI.read_text() == current, "regenerate: uv run python -m titan_scanner.openapi"


async def test_websocket_stream(served_scanner: tuple[Any, str], pools: Any) -> None:
    """Over a real socket: the snapshot first, then each opportunity as it is published."""
    import asyncio

    import websockets

    from titan_common.models import BlockComplete, PoolUpdate

    app, url = served_scanner
    scanner = app.state.runtime.scanner
    async with websockets.connect(url.replace("http", "ws", 1) + "/ws/opportunities") as ws:
        hello = json.loads(await ws.recv())
        assert hello["type"] == "snapshot"
        assert [o["block_number"] for o in hello["data"]] == [5, 6, 7, 8]  # oldest first
        weth, usdc = pools.token(0), pools.token(1)
        cheap = pools.v2(weth, usdc, 100 * 10**18, 200_000 * 10**6)
        dear = pools.v2(weth, usdc, 100 * 10**18, 230_000 * 10**6, dex="sushiswap")
        for i, state in enumerate((cheap, dear)):
            scanner.on_update(PoolUpdate(chain_id=31337, pool=state, block_number=9, log_index=i))
        scanner.on_block(BlockComplete(chain_id=31337, block_number=9))
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert message["type"] == "opportunity"
        assert message["data"]["block_number"] == 9
        assert int(message["data"]["net_profit"]) > 0
    async with httpx.AsyncClient() as client:
        ready = await client.get(f"{url}/ready")
        assert ready.status_code == 503  # no ingest behind it


@pytest.mark.parametrize("key", ["zq-key-1"])
async def test_api_key_guards_everything_but_health(
    clean_environ: None, tmp_path: Path, key: str, fake_engine: Any
) -> None:
    from titan_scanner.app import create_app
    from titan_scanner.settings import ScannerSettings

    settings = ScannerSettings(
        database_url=f"sqlite:///{tmp_path}/k.db",
        base_tokens=["0x" + "11" * 20],
        scanner_native_token="0x" + "11" * 20,
        use_real_data=False,
        TITAN_API_KEY=key,
    )
    app = create_app(settings, {"engine": fake_engine.transport()}, start_source=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://s") as client:
            assert (await client.get("/health")).status_code == 200
            denied = await client.get("/api/stats")
            assert denied.status_code == 401 and denied.json()["error"]["code"] == "unauthorized"
            assert (await client.get("/api/stats", headers={"x-api-key": key})).status_code == 200
