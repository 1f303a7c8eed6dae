"""The service against the real devnet (anvil): live `eth_feeHistory`, forecasts, collection."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from titan_common.jsonrpc import JsonRpcClient
from titan_ml.app import create_app
from titan_ml.forecast.collect import FeeHistorySource, collect_to_file, fee_history
from titan_ml.forecast.heads import HeadFollower
from titan_ml.forecast.history import load_base_fee_csv

pytestmark = [pytest.mark.devnet]


async def test_forecasts_and_collection_on_the_devnet(
    devnet: Any, serve: Any, settings_factory: Any, model_dir: Path, tmp_path: Path
) -> None:
    devnet.run_flow(40)  # blocks with real swaps: gas used varies
    head = devnet.w3.eth.block_number
    settings = settings_factory(
        ml_data_dir=model_dir,
        chain_id=31337,
        chain_rpc_url=devnet.rpc_url,
        ml_fee_history_ttl=0.0,
    )
    async with (
        serve(create_app(settings)) as host,
        httpx.AsyncClient(base_url=f"http://{host}", timeout=10) as client,
    ):
        r = await client.post("/api/forecast/gas", json={"chain_id": 31337})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["last_block"] >= head
        first = body["forecasts"][0]
        block = devnet.w3.eth.get_block(body["last_block"])
        next_fee = int(body["next_base_fee_wei"])
        assert first["horizon"] == 1 and int(first["base_fee_wei"]) == next_fee
        assert body["model"] in ("ensemble", "baseline_eip1559")
        assert int(block["baseFeePerGas"]) > 0
        assert "priority_fee_wei" in first  # anvil answers reward percentiles
    out = tmp_path / "fee_history.csv"
    rows = await collect_to_file(devnet.rpc_url, 30, out)
    history = load_base_fee_csv(out)
    assert rows == history.blocks == 30
    assert int(history.base_fee[-2]) == int(
        devnet.w3.eth.get_block(history.last_block)["baseFeePerGas"]
    )


class _Recording(httpx.AsyncHTTPTransport):
    """The transport that records each JSON-RPC call's parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.params: list[list[Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.params.append(json.loads(request.content)["params"])
        return await super().handle_async_request(request)


async def test_fee_history_reaches_the_block_asked_about(devnet: Any) -> None:
    """With a TTL far longer than the test, a block number still brings the history up to it,
    asking the node for the new blocks only, and the result equals a fresh full read."""
    devnet.run_flow(5)
    recording = _Recording()
    source = FeeHistorySource(devnet.rpc_url, 64, 3600.0, 5.0, transport=recording)
    first = await source.latest(devnet.w3.eth.block_number)
    assert (await source.latest()) is first  # no block number: the TTL holds
    devnet.run_flow(4)
    head = devnet.w3.eth.block_number
    assert head > first.last_block
    kept = await source.latest(head)
    assert kept.last_block >= head and kept.blocks == min(64, kept.last_block + 1)
    asked = int(recording.params[-1][0], 16)
    assert len(recording.params) == 2 and asked <= head - first.last_block + 3
    rpc = JsonRpcClient(devnet.rpc_url, 5.0)
    fresh = await fee_history(rpc, 64, kept.last_block)
    await rpc.aclose()
    assert fresh.oldest_block == kept.oldest_block
    assert np.array_equal(fresh.base_fee, kept.base_fee)
    assert np.array_equal(fresh.gas_used_ratio, kept.gas_used_ratio)
    assert fresh.reward is not None and kept.reward is not None
    assert np.array_equal(fresh.reward, kept.reward)
    await source.aclose()


async def _until(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_the_fee_history_follows_new_heads(devnet: Any) -> None:
    """Followed over the WebSocket, each new block brings the fee history to it before a
    forecast asks: the request for the newest block then calls the node not at all."""
    recording = _Recording()
    source = FeeHistorySource(devnet.rpc_url, 64, 3600.0, 5.0, transport=recording)
    follower = HeadFollower(devnet.ws_url, source)
    following = asyncio.create_task(follower.run())
    try:
        await _until(lambda: follower.connected)
        devnet.run_flow(3)  # automine: a block per swap
        head = devnet.w3.eth.block_number
        await _until(lambda: follower.refreshed >= 1 and follower.heads >= 3)
        await _until(lambda: follower.refreshed == follower.heads)
        calls = len(recording.params)
        history = await source.latest(head)
        assert history.last_block >= head
        assert len(recording.params) == calls  # in hand already
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        await source.aclose()


async def test_the_service_makes_each_blocks_forecast_as_the_block_arrives(
    devnet: Any, serve: Any, settings_factory: Any, model_dir: Path
) -> None:
    """With heads followed, the forecast the scanner asks for (horizon 1, at the block it
    prices) is made when the block arrives; the request is answered with it, unmade again."""
    settings = settings_factory(
        ml_data_dir=model_dir,
        chain_id=31337,
        chain_rpc_url=devnet.rpc_url,
        chain_ws_url=devnet.ws_url,
        ml_follow_heads=True,
    )
    app = create_app(settings)
    forecasts, follower = app.state.forecasts, app.state.heads
    made: list[int] = []
    answer = forecasts.answer
    forecasts.answer = lambda *args: made.append(args[1].last_block) or answer(*args)
    async with (
        serve(app) as host,
        httpx.AsyncClient(base_url=f"http://{host}", timeout=10) as client,
    ):
        await _until(lambda: follower.connected)
        devnet.run_flow(3)  # automine: a block per swap
        head = devnet.w3.eth.block_number
        await _until(lambda: bool(made) and made[-1] >= head)
        before = len(made)
        asked = {"chain_id": 31337, "horizon": 1, "block_number": head}
        r = await client.post("/api/forecast/gas", json=asked)
        assert r.status_code == 200 and r.json()["last_block"] >= head
        assert len(made) == before  # made already, when the block came
        r = await client.post("/api/forecast/gas", json={**asked, "horizon": 2})
        assert r.status_code == 200 and len(made) == before + 1  # not made ahead: made now


async def test_a_node_without_websocket_leaves_forecasts_on_request(devnet: Any) -> None:
    """No WebSocket where the follower looks: it keeps trying, says why, and the fee history
    is fetched on request as before."""
    source = FeeHistorySource(devnet.rpc_url, 64, 3600.0, 5.0)
    follower = HeadFollower("ws://127.0.0.1:9/", source)
    following = asyncio.create_task(follower.run())
    try:
        await _until(lambda: follower.last_error is not None)
        assert not follower.connected and follower.heads == 0
        head = devnet.w3.eth.block_number
        assert (await source.latest(head)).last_block >= head
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        await source.aclose()
