"""The CLI: a table from a running scanner, and a clear error when there is none."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from titan_scanner.cli import _units, main
from titan_scanner.testing import wait_for


def test_units_are_exact() -> None:
    assert _units("1") == "0.000000"
    assert _units("1234567890123456789") == "1.234567"
    assert _units("-5000000000000000000") == "-5.000000"


def test_no_scanner(clean_environ: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["opportunities", "--url", "http://127.0.0.1:9"]) == 1
    assert "no scanner" in capsys.readouterr().out


async def test_table_from_running_scanner(
    clean_environ: None,
    tmp_path: Path,
    pools: Any,
    fake_engine: Any,
    fake_ml: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from titan_common.models import PoolUpdate
    from titan_scanner.app import create_app
    from titan_scanner.settings import ScannerSettings

    monkeypatch.setenv("COLUMNS", "220")
    weth, usdc = pools.token(0), pools.token(1)
    settings = ScannerSettings(
        database_url=f"sqlite:///{tmp_path}/c.db",
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
        for i, state in enumerate((cheap, dear)):
            scanner.on_update(PoolUpdate(chain_id=31337, pool=state, block_number=3, log_index=i))
        await wait_for(lambda: scanner.stats.published >= 1)
        await asyncio.sleep(0.05)
        result: list[int] = []
        thread = threading.Thread(
            target=lambda: result.append(
                main(["opportunities", "--url", f"http://127.0.0.1:{port}"])
            )
        )
        thread.start()
        await asyncio.get_running_loop().run_in_executor(None, thread.join)
        assert result == [0]
        out = capsys.readouterr().out
        assert "sushiswap" in out and "uniswap_v2" in out
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
