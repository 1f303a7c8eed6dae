"""The dashboard in headless Chromium: it renders live opportunities and its charts.

Skipped, saying why, when no Chromium is installed (`apt-get install chromium`)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from titan_common.models import BlockComplete, PoolUpdate
from titan_scanner.app import create_app
from titan_scanner.settings import ScannerSettings
from titan_scanner.testing import wait_for

BROWSER = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)


async def _browser(*args: str) -> tuple[int, str]:
    assert BROWSER is not None
    proc = await asyncio.create_subprocess_exec(
        BROWSER,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--window-size=1400,1000",
        "--virtual-time-budget=4000",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode(errors="replace")


async def test_dashboard_renders_in_chromium(
    clean_environ: None, tmp_path: Path, pools: Any, fake_engine: Any, fake_ml: Any
) -> None:
    if BROWSER is None:
        print("skipping: no chromium on PATH (apt-get install chromium)")
        pytest.skip("no chromium on PATH")
    weth, usdc = pools.token(0), pools.token(1)
    settings = ScannerSettings(
        database_url=f"sqlite:///{tmp_path}/d.db",
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
        url = f"http://127.0.0.1:{port}/"
        code, dom = await _browser("--dump-dom", url)
        assert code == 0
        assert 'data-loaded="1"' in dom  # the stats, pools and gas fetches all succeeded
        assert dom.count('id="o-31337-') == 4  # the four opportunities, from the WebSocket
        assert "sushiswap → uniswap_v2" in dom
        assert '<b id="k-policy">4 / 0</b>' in dom  # all four decided by the (stand-in) policy
        shot = tmp_path / "dashboard.png"
        code, _ = await _browser(f"--screenshot={shot}", url)
        assert code == 0 and shot.stat().st_size > 10_000
        print(f"dashboard screenshot: {shot}")
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
