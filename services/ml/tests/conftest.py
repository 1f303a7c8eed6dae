"""Fixtures of the ML tests: settings built explicitly, one small training run per session on a
slice of the real data, a real uvicorn server on port 0, and a stand-in JSON-RPC node that
answers `eth_feeHistory` from the real base-fee file."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import uvicorn
from fastapi import FastAPI, Request

from titan_ml.forecast.history import FeeHistory, load_base_fee_csv
from titan_ml.settings import MlSettings
from titan_ml.training.pipeline import TrainOptions, train_all

# Where the real data is: TITAN_SHARED_DATA if the runner set it, else the settings' default
# (../shared/data from the repo root, where pytest runs). Read once, before any test runs.
SHARED_DATA = os.environ.get("TITAN_SHARED_DATA", "../shared/data")
TEST_SAMPLES = 6000
TEST_EPISODES = 300


def make_settings(**fields: Any) -> MlSettings:
    """MlSettings from the arguments alone: the developer's environment is hidden. No chain
    heads are followed unless asked (`ml_follow_heads=True` with a `chain_ws_url`)."""
    fields.setdefault("ml_follow_heads", False)
    with mock.patch.dict(os.environ, {"TITAN_CONFIG_FILE": os.devnull}, clear=True):
        return MlSettings(TITAN_SHARED_DATA=SHARED_DATA, **fields)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    prefixes = ("ML_", "CHAIN_", "TITAN_", "ENABLE_", "LOG_")
    for name in list(os.environ):
        if name.startswith(prefixes):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TITAN_CONFIG_FILE", os.devnull)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One training run on the last TEST_SAMPLES blocks: its data dir and its summary."""
    data_dir = tmp_path_factory.mktemp("ml-data")
    settings = make_settings(ml_data_dir=data_dir)
    summary = train_all(settings, TrainOptions(samples=TEST_SAMPLES, episodes=TEST_EPISODES))
    return {"data_dir": data_dir, "summary": summary}


@pytest.fixture
def model_dir(trained: dict[str, Any], tmp_path: Path) -> Path:
    """A private copy of the trained data dir, free to break."""
    target = tmp_path / "data"
    shutil.copytree(trained["data_dir"], target)
    return target


@contextlib.asynccontextmanager
async def _serve(app: FastAPI) -> AsyncIterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.fixture
def serve() -> Callable[[FastAPI], Any]:
    """`async with serve(app) as host:` runs `app` on a free port."""
    return _serve


def fake_node() -> FastAPI:
    """A JSON-RPC endpoint answering `eth_feeHistory` for the last blocks of the real file."""
    history = load_base_fee_csv(make_settings().base_fee_file)
    app = FastAPI()

    @app.post("/")
    async def rpc(request: Request) -> dict[str, Any]:
        body = await request.json()
        if body["method"] != "eth_feeHistory":
            return {"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32601}}
        count, newest = int(body["params"][0], 16), body["params"][1]
        end = history.blocks if newest == "latest" else int(newest, 16) - history.oldest_block + 1
        part = FeeHistory(
            history.oldest_block, history.base_fee[: end + 1], history.gas_used_ratio[:end]
        )
        tail = part.tail(count)
        return {
            "jsonrpc": "2.0",
            "id": body["id"],
            "result": {
                "oldestBlock": hex(tail.oldest_block),
                "baseFeePerGas": [hex(int(v)) for v in tail.base_fee],
                "gasUsedRatio": [float(v) for v in tail.gas_used_ratio],
                "reward": [[hex(10**8), hex(2 * 10**9)] for _ in range(tail.blocks)],
            },
        }

    return app


@pytest.fixture
def node_app() -> FastAPI:
    return fake_node()


@pytest.fixture(scope="session")
def settings_factory() -> Callable[..., MlSettings]:
    """`settings_factory(**fields)`: MlSettings from the arguments alone."""
    return make_settings
