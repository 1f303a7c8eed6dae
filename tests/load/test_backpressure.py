"""Past its in-flight limit each HTTP service sheds load at once, 503 `overloaded` with
Retry-After and the error body, instead of queueing into a storm of timeouts: more concurrent
slow requests than the limit at a real process, behind a node that answers slowly (a delaying
proxy in front of the devnet). Every other request succeeds, and no other 5xx appears."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from titan_devnet.testing import Devnet

LIMIT = 4
CONCURRENT = 24
DELAY = 0.5  # seconds each node answer is held


async def burst(url: str, path: str, body: dict[str, Any]) -> list[httpx.Response]:
    async with httpx.AsyncClient(
        base_url=url, timeout=60, limits=httpx.Limits(max_connections=CONCURRENT)
    ) as http:
        return list(await asyncio.gather(*(http.post(path, json=body) for _ in range(CONCURRENT))))


def assert_shed(service: str, responses: list[httpx.Response]) -> None:
    statuses = Counter(r.status_code for r in responses)
    print(f"back-pressure {service}: {CONCURRENT} concurrent, limit {LIMIT}: {dict(statuses)}")
    assert set(statuses) == {200, 503}, statuses
    assert statuses[200] >= LIMIT // 2 and statuses[503] >= CONCURRENT - 2 * LIMIT, statuses
    for r in responses:
        if r.status_code == 503:
            assert r.headers["retry-after"] == "1"
            error = r.json()["error"]
            assert error["code"] == "overloaded" and error["details"]["max_in_flight"] == LIMIT


def node(devnet: Devnet) -> tuple[str, int]:
    host, port = devnet.rpc_url.removeprefix("http://").split(":")
    return host, int(port)


async def test_engine_sheds_past_its_limit(
    launcher: Any, devnet: Devnet, delay_proxy: Any, tmp_path: Path
) -> None:
    pool = devnet.pools(dex="uniswap_v2")[0]
    body = {"chain_id": 31337, "pool_address": pool["address"], "dex": "uniswap_v2"}
    async with delay_proxy(*node(devnet), DELAY) as proxy:
        env = {
            "CHAIN_RPC_URL": f"http://127.0.0.1:{proxy.port}",
            "CACHE_DURATION_SECONDS": "0",  # every request reads the chain
            "ENGINE_MAX_IN_FLIGHT": str(LIMIT),
        }
        with launcher.engine(tmp_path / "engine.log", **env) as engine:
            busy = asyncio.create_task(burst(engine.url, "/api/pool", body))
            await asyncio.sleep(DELAY / 2)
            async with httpx.AsyncClient(timeout=5) as http:  # probes are never shed
                health = await http.get(f"{engine.url}/health")
            responses = await busy
    assert health.status_code == 200
    assert_shed("engine", responses)


async def test_ml_sheds_past_its_limit(
    launcher: Any, devnet: Devnet, delay_proxy: Any, tmp_path: Path
) -> None:
    devnet.mine(40)  # enough fee history for a forecast
    async with delay_proxy(*node(devnet), DELAY) as proxy:
        env = {
            "CHAIN_RPC_URL": f"http://127.0.0.1:{proxy.port}",
            "ML_FEE_HISTORY_TTL": "0",  # every request reads the chain
            "ML_MAX_IN_FLIGHT": str(LIMIT),
            "ML_DATA_DIR": str(tmp_path / "ml"),
        }
        with launcher.python("ml", tmp_path / "ml.log", **env) as ml:
            responses = await burst(ml.url, "/api/forecast/gas", {"chain_id": 31337})
    ok = [r for r in responses if r.status_code == 200]
    assert ok and all(json.loads(r.text)["forecasts"] for r in ok)
    assert_shed("ml", responses)
