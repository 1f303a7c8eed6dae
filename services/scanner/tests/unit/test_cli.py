"""The CLI: a table from a running scanner, and a clear error when there is none."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from rich.console import Console

from titan_scanner.cli import _units, main, table, train_agent, watch
from titan_scanner.testing import sample_opportunity, sample_paper_trade, wait_for


def test_units_are_exact() -> None:
    assert _units("1") == "0.000000"
    assert _units("1234567890123456789") == "1.234567"
    assert _units("-5000000000000000000") == "-5.000000"


def test_no_scanner(clean_environ: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["opportunities", "--url", "http://127.0.0.1:9"]) == 1
    assert "no scanner" in capsys.readouterr().out


def _said(capsys: pytest.CaptureFixture[str]) -> str:
    """What the CLI printed, as one line (rich wraps it to the terminal's width)."""
    return " ".join(capsys.readouterr().out.split())


def test_replay_says_what_is_missing(
    clean_environ: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAIN_RPC_URL", "http://127.0.0.1:9")
    assert main(["replay", "--url", "http://127.0.0.1:9"]) == 1  # no devnet manifest here
    assert "'WETH' is neither an address nor a symbol" in _said(capsys)
    weth = "0x" + "33" * 20
    monkeypatch.setenv("SCANNER_NATIVE_TOKEN", weth)
    monkeypatch.setenv("BASE_TOKENS", weth)
    assert main(["replay", "--url", "http://127.0.0.1:9"]) == 1
    assert "no executor or verifier account" in _said(capsys)
    monkeypatch.setenv("SCANNER_EXECUTOR_ADDRESS", "0x" + "11" * 20)
    monkeypatch.setenv("SCANNER_VERIFIER_ADDRESS", "0x" + "22" * 20)
    assert main(["replay", "--url", "http://127.0.0.1:9"]) == 1
    assert "no chain at http://127.0.0.1:9" in _said(capsys)


async def test_retraining_without_an_ml_service_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    """(The way through a live ML service is `make up`'s own test: it retrains that way.)"""
    assert await train_agent("http://127.0.0.1:9", {}, Console()) == 1
    assert "retraining failed, the ML service at http://127.0.0.1:9" in _said(capsys)


async def test_table_from_running_scanner(
    served_scanner: tuple[FastAPI, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(main(["opportunities", "--url", served_scanner[1]]))
    )
    thread.start()
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    assert result == [0]
    out = capsys.readouterr().out
    assert "sushiswap" in out and "uniswap_v2" in out


async def test_paper_trades_are_merged_into_a_file_for_the_ml_service(
    served_scanner: tuple[FastAPI, str], tmp_path: Path
) -> None:
    app, url = served_scanner
    for block in range(5):
        await app.state.runtime.repository.save_paper_trade(sample_paper_trade(block, "landed"))
    out = tmp_path / "data" / "paper_trades.csv"

    def export() -> int:
        return main(["paper-trades", "--url", url, "--out", str(out)])

    def read() -> list[dict[str, str]]:
        with out.open(newline="") as handle:
            return list(csv.DictReader(handle))

    assert await asyncio.get_running_loop().run_in_executor(None, export) == 0
    rows = read()
    assert [r["block_found"] for r in rows] == ["0", "1", "2", "3", "4"]  # oldest first
    assert rows[0]["amount_in"] == str(5 * 10**17) and rows[0]["error"] == ""
    # again, with one more: merged, not doubled
    await app.state.runtime.repository.save_paper_trade(sample_paper_trade(9, "reverted"))
    assert await asyncio.get_running_loop().run_in_executor(None, export) == 0
    rows = read()
    assert len(rows) == 6 and rows[-1]["status"] == "reverted"


async def test_watch_draws_at_its_refresh_rate_not_per_message(
    served_scanner: tuple[FastAPI, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """240 opportunities in ~0.25 s on the WebSocket: the table is built a few times a second
    (Live's refresh), not once per message, and ends with the newest."""
    app, url = served_scanner
    builds = 0

    def counted(*args: Any) -> Any:
        nonlocal builds
        builds += 1
        return table(*args)

    monkeypatch.setattr("titan_scanner.cli.table", counted)
    out = io.StringIO()
    console = Console(file=out, width=220, force_terminal=False)
    watcher = asyncio.create_task(watch(url, {}, 25, console))
    publisher = app.state.runtime.scanner.publisher
    await wait_for(lambda: publisher.subscribers == 1)
    weth, usdc = publisher.recent[-1].base_token, publisher.recent[-1].hops[0].token_out
    started = time.monotonic()
    for i in range(240):
        publisher.opportunity(sample_opportunity(i, 100 + i // 30, 10**15 + i, weth, usdc))
        if i % 10 == 9:
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.5)  # the last messages in, and a refresh after them
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    elapsed = time.monotonic() - started
    print(f"240 messages in {elapsed:.2f} s: the table built {builds} times")
    assert builds <= 8 * elapsed + 4  # 8 refreshes a second, and the first and last draws
    final = out.getvalue().rsplit(f"{url}: ", 1)[-1]  # the last draw, from its title on
    assert final.startswith("live, 25 shown")
    assert len(re.findall(r"│\s+107 │", final)) == 25  # the newest block's, the last 25 sent
