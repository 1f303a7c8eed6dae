"""Fixtures of the scanner's tests: pool factories, stand-in services, the app in process."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from titan_common.models import BlockComplete, PoolUpdate
from titan_scanner.app import create_app
from titan_scanner.settings import ScannerSettings
from titan_scanner.testing import FakeEngine, FakeMl, PoolFactory, Service, wait_for


@pytest.fixture
def pools() -> PoolFactory:
    return PoolFactory()


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.isupper() and not name.startswith(("PATH", "HOME", "PYTHON", "UV")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def fake_ml() -> FakeMl:
    return FakeMl()


@pytest.fixture
async def service(
    clean_environ: None,
    tmp_path: Path,
    pools: PoolFactory,
    fake_engine: FakeEngine,
    fake_ml: FakeMl,
) -> AsyncIterator[Service]:
    weth = pools.token(0)
    settings = ScannerSettings(
        database_url=f"sqlite:///{tmp_path}/scanner.db",
        base_tokens=[weth],
        scanner_native_token=weth,
        use_real_data=False,
        # Far above any test's wait: blocks close on their marker (or a newer block) only.
        scanner_block_timeout=30.0,
        scanner_probe_interval=0.05,
    )
    app = create_app(
        settings, {"engine": fake_engine.transport(), "ml": fake_ml.transport()}, start_source=False
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://scanner") as client:
            yield Service(
                app, app.state.runtime, client, pools, weth, pools.token(1), pools.token(2)
            )


@pytest.fixture
async def served_scanner(
    clean_environ: None,
    tmp_path: Path,
    pools: PoolFactory,
    fake_engine: FakeEngine,
    fake_ml: FakeMl,
) -> AsyncIterator[tuple[FastAPI, str]]:
    """A scanner served by uvicorn on a free port (stand-in engine and ML), with one
    opportunity published in each of blocks 5 to 8: the app and its base URL, for clients that
    need a real socket (the CLI, a browser)."""
    weth, usdc = pools.token(0), pools.token(1)
    settings = ScannerSettings(
        database_url=f"sqlite:///{tmp_path}/served.db",
        base_tokens=[weth],
        scanner_native_token=weth,
        use_real_data=False,
    )
    app = create_app(
        settings, {"engine": fake_engine.transport(), "ml": fake_ml.transport()}, start_source=False
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None))
    task = asyncio.create_task(server.serve())
    try:
        await wait_for(lambda: server.started, within=10)
        port = server.servers[0].sockets[0].getsockname()[1]
        scanner = app.state.runtime.scanner
        cheap = pools.v2(weth, usdc, 100 * 10**18, 200_000 * 10**6)
        dear = pools.v2(weth, usdc, 100 * 10**18, 220_000 * 10**6, dex="sushiswap")
        for block in range(5, 9):
            moved = dear.model_copy(update={"reserve1": dear.reserve1 + block * 10**9})
            for i, state in enumerate((cheap, moved)):
                scanner.on_update(
                    PoolUpdate(chain_id=31337, pool=state, block_number=block, log_index=i)
                )
            scanner.on_block(BlockComplete(chain_id=31337, block_number=block))
            await wait_for(lambda b=block: scanner.stats.published >= b - 4)
        yield app, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
