"""The dashboard in headless Chromium: it renders live opportunities and its charts, and a
burst of messages is drawn a few times, not once per message.

Skipped, saying why, when no Chromium is installed (`apt-get install chromium`)."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import connect as ws_connect

from titan_scanner.testing import sample_opportunity, sample_paper_trade

BROWSER = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)
HEADLESS = ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000")


async def _browser(*args: str) -> tuple[int, str]:
    assert BROWSER is not None
    proc = await asyncio.create_subprocess_exec(
        BROWSER,
        *HEADLESS,
        "--hide-scrollbars",
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


def _needs_browser() -> None:
    if BROWSER is None:
        print("skipping: no chromium on PATH (apt-get install chromium)")
        pytest.skip("no chromium on PATH")


async def test_dashboard_renders_in_chromium(
    served_scanner: tuple[FastAPI, str], tmp_path: Path
) -> None:
    _needs_browser()
    app, base = served_scanner
    for n, status in ((7, "landed"), (8, "reverted")):
        await app.state.runtime.repository.save_paper_trade(sample_paper_trade(n, status))
    url = base + "/"
    code, dom = await _browser("--dump-dom", url)
    assert code == 0
    assert 'data-loaded="1"' in dom  # the stats, pools, gas and paper-trade fetches succeeded
    assert dom.count('id="o-31337-') == 4  # the four opportunities, from the WebSocket
    assert "sushiswap → uniswap_v2" in dom
    assert '<b id="k-policy">4 / 0</b>' in dom  # all four decided by the (stand-in) policy
    assert '<b id="k-agent">100.0 %</b>' in dom  # by its agent, as the stand-in ML says
    assert "1 landed, 1 reverted, 0 failed, 0 gave way; realized 0.020000" in dom
    assert dom.count('class="badge landed"') == 1 and dom.count('class="badge reverted"') == 1
    assert "size 0.5 · bid ×1.25" in dom and "<td>+1</td>" in dom
    shot = tmp_path / "dashboard.png"
    code, _ = await _browser(f"--screenshot={shot}", url)
    assert code == 0 and shot.stat().st_size > 10_000
    print(f"dashboard screenshot: {shot}")


class _Page:
    """One Chromium page driven over the DevTools protocol."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        key = next(self.ids)
        await self.socket.send(json.dumps({"id": key, "method": method, "params": params}))
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), 30))
            if message.get("id") == key:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result

    async def value(self, expression: str) -> Any:
        answer = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return answer["result"].get("value")


@asynccontextmanager
async def _devtools_page() -> AsyncIterator[_Page]:
    assert BROWSER is not None
    proc = await asyncio.create_subprocess_exec(
        BROWSER,
        *HEADLESS,
        "--remote-debugging-port=0",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        port = None
        while port is None:  # "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/..."
            line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
            assert line, "Chromium exited before its DevTools endpoint was up"
            found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            port = int(found.group(1)) if found else None
        async with httpx.AsyncClient() as client:
            targets = (await client.get(f"http://127.0.0.1:{port}/json")).json()
        page = next(t for t in targets if t["type"] == "page")
        async with ws_connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
            yield _Page(socket)
    finally:
        proc.kill()
        await proc.wait()


async def _wait_for_value(page: _Page, expression: str, wanted: Any, within: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while (got := await page.value(expression)) != wanted:
        assert loop.time() < deadline, f"{expression} is {got!r}, not {wanted!r}"
        await asyncio.sleep(0.05)


async def test_a_burst_of_opportunities_is_drawn_a_few_times(
    served_scanner: tuple[FastAPI, str],
) -> None:
    """300 opportunities in 0.3 s (the devnet's flow publishes ~80 a second, in bursts): drawn
    a handful of times, the newest shown. Redrawn for each message, the page kept Chromium's
    main thread busy for seconds at a time under `make up`."""
    _needs_browser()
    app, url = served_scanner
    async with _devtools_page() as page:
        await page.call("Page.navigate", url=url)
        await _wait_for_value(page, "document.body.dataset.loaded", "1")
        await _wait_for_value(page, "document.querySelectorAll('#opps tbody tr').length", 4)
        before = int(await page.value("document.body.dataset.renders"))
        publisher = app.state.runtime.scanner.publisher
        weth, usdc = publisher.recent[-1].base_token, publisher.recent[-1].hops[0].token_out
        burst = [sample_opportunity(i, 100 + i // 30, 10**15 + i, weth, usdc) for i in range(240)]
        for i, opportunity in enumerate(burst):
            publisher.opportunity(opportunity)
            if i % 10 == 9:
                await asyncio.sleep(0.01)
        newest = f"o-{burst[-1].id}"
        await _wait_for_value(page, f"document.getElementById('{newest}') !== null", True)
        await asyncio.sleep(0.6)  # any render still due
        renders = int(await page.value("document.body.dataset.renders")) - before
        rows = await page.value("document.querySelectorAll('#opps tbody tr').length")
        print(f"240 opportunities over ~0.25 s: {renders} renders, {rows} rows shown")
        assert 1 <= renders <= 10
        assert rows == 60
        assert await page.value(f"document.getElementById('{newest}') !== null")
