"""Fixtures of the scanner's tests: pool factories, stand-in services, the app in process."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from titan_scanner.app import create_app
from titan_scanner.settings import ScannerSettings
from titan_scanner.testing import FakeEngine, FakeMl, PoolFactory, Service


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
