"""`titan opportunities [--watch]`: the latest opportunities of a running scanner, as a table.
`titan replay [--train]`: its recent verified opportunities replayed on the chain, for the
agent's training, and its paper trades beside them (the landing model's data); with `--train`
the ML service then retrains on them (`POST /api/train`).
`titan paper-trades`: the paper trades alone, into a CSV file.

Without `--watch` it prints one page from `GET /api/opportunities`; with it, a live table fed
by `WS /ws/opportunities` that reconnects when the scanner restarts. Ctrl-C ends it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import httpx
import websockets
from rich.console import Console
from rich.live import Live
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from titan_common.jsonrpc import RpcUnavailable
from titan_scanner.chain import ChainReader
from titan_scanner.manifest import resolve_chain
from titan_scanner.pages import paged_items
from titan_scanner.settings import ScannerSettings
from titan_scanner.verify.paper import PaperTrade, write_paper_trades
from titan_scanner.verify.replay import Replayer, replay_all, verified_opportunities, write_replays


def _units(value: str, decimals: int = 18, shown: int = 6) -> str:
    negative = value.startswith("-")
    digits = value.lstrip("-").rjust(decimals + 1, "0")
    whole, frac = digits[:-decimals], digits[-decimals:][:shown]
    return f"{'-' if negative else ''}{whole}.{frac}"


def table(items: list[dict[str, Any]], title: str) -> Table:
    t = Table(title=title, expand=True)
    for name, justify in (
        ("block", "right"),
        ("path", "left"),
        ("amount in", "right"),
        ("net profit", "right"),
        ("gas", "right"),
        ("action", "left"),
        ("proof", "left"),
        ("ms", "right"),
    ):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    colours = {"verified": "green", "mismatch": "red", "failed": "red"}
    for o in items:
        status = o["verification"]["status"]
        action = o["action"]
        t.add_row(
            str(o["block_number"]),
            " → ".join(h["dex"] + (f"/{h['fee']}" if h.get("fee") else "") for h in o["hops"]),
            _units(o["amount_in"]),
            _units(o["net_profit"]),
            _units(o["gas_cost"]),
            f"{'execute' if action['execute'] else 'skip'} x{action['gas_bid_multiplier']}"
            f" ({action['source']})",
            f"[{colours.get(status, 'yellow')}]{status}[/]",
            f"{o['latency_ms']:.1f}",
        )
    return t


class Watched:
    """What the live table shows: the newest opportunities by id, and the stream's state."""

    def __init__(self, url: str, limit: int) -> None:
        self.url, self.limit = url, limit
        self.seen: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.status = "connecting"

    def take(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind in ("snapshot", "opportunity"):
            for o in message["data"] if kind == "snapshot" else [message["data"]]:
                self.seen[o["id"]] = o
        elif kind == "verification" and message["id"] in self.seen:
            self.seen[message["id"]]["verification"] = message["data"]
        while len(self.seen) > self.limit:
            self.seen.popitem(last=False)
        self.status = f"live, {len(self.seen)} shown"

    def view(self) -> Table:
        """The table, built on each of Live's refreshes (8 a second) rather than for each message
        (~80 a second under the devnet's flow). Live calls it from its own thread: `list()`
        copies the values in one step under the GIL while the event loop adds more."""
        newest = sorted(list(self.seen.values()), key=lambda o: -o["detected_at"])
        return table(newest, f"{self.url}: {self.status}")


async def watch(url: str, headers: dict[str, str], limit: int, console: Console) -> None:
    ws_url = "ws" + url.rstrip("/").removeprefix("http") + "/ws/opportunities"
    watched = Watched(url, limit)
    with Live(get_renderable=watched.view, console=console, refresh_per_second=8):
        while True:
            try:
                async with websockets.connect(ws_url, additional_headers=headers) as ws:
                    async for raw in ws:
                        watched.take(json.loads(raw))
            except (OSError, websockets.WebSocketException) as exc:
                watched.status = f"reconnecting ({exc})"
                await asyncio.sleep(1.0)


async def replay(
    settings: ScannerSettings,
    url: str,
    headers: dict[str, str],
    out: Path,
    blocks: int,
    limit: int,
    console: Console,
) -> int:
    """Replay the verified opportunities of the chain's last `blocks` blocks into `out`."""
    try:
        names = resolve_chain(settings)
    except ValueError as exc:  # a token symbol without the devnet's manifest
        console.print(f"[red]{exc}[/]")
        return 1
    if names.executor is None or names.verifier is None:
        console.print("[red]no executor or verifier account: set them or run the devnet[/]")
        return 1
    chain = ChainReader(names.rpc_url, settings.scanner_rpc_timeout)
    client = httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers, timeout=30)
    try:
        head = await chain.block_number()
        # the late call needs the block after the opportunity's
        first, last = max(0, head - blocks), head - 1
        found = await verified_opportunities(client, names.native_token, first, last, limit)
        replayer = Replayer(chain, names.executor, names.verifier)
        with Progress(console=console, transient=False) as progress:
            task = progress.add_task(f"replaying blocks {first}-{last}", total=len(found))
            replays, counts = await replay_all(replayer, found, lambda: progress.advance(task))
    except (httpx.HTTPError, OSError) as exc:
        console.print(f"[red]replay failed, the scanner at {url}: {exc}[/]")
        return 1
    except RpcUnavailable as exc:
        console.print(f"[red]replay failed, no chain at {names.rpc_url}: {exc}[/]")
        return 1
    finally:
        await client.aclose()
        await chain.close()
    try:
        rows = write_replays(out, replays)
    except (OSError, ValueError) as exc:
        console.print(f"[red]replay not written: {exc}[/]")
        return 1
    console.print(
        f"{counts.replayed} replayed, {counts.unmatched} left out (the full size at its block "
        "did not pay the proven amount: another chain, or a state the node no longer has); "
        f"{out}: {rows} rows"
    )
    # the trades paper trading sent on the same chain: what landing at a bid is like there
    return await paper_trades(url, headers, out.with_name(PAPER_TRADES_FILE), console)


TRAIN_POLL_S = 1.0
PAPER_PAGE = 500
# beside `titan replay`'s file, where the ML service reads it (ML_DATA_DIR)
PAPER_TRADES_FILE = "paper_trades.csv"


async def export_paper_trades(client: httpx.AsyncClient, out: Path) -> int:
    """The scanner's paper trades merged into `out` (not written when it has none); how many
    it has."""
    trades = [
        PaperTrade.model_validate(item)
        async for item in paged_items(client, "/api/paper-trades", {}, PAPER_PAGE)
    ]
    if trades:
        write_paper_trades(out, trades)
    return len(trades)


async def paper_trades(url: str, headers: dict[str, str], out: Path, console: Console) -> int:
    async with httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers, timeout=30) as client:
        try:
            n = await export_paper_trades(client, out)
        except httpx.HTTPError as exc:
            console.print(f"[red]no paper trades, the scanner at {url}: {exc}[/]")
            return 1
        except (OSError, ValueError) as exc:
            console.print(f"[red]paper trades not written: {exc}[/]")
            return 1
    console.print(f"{n} paper trades" + (f" merged into {out}" if n else ""))
    return 0


async def train_agent(ml_url: str, headers: dict[str, str], console: Console) -> int:
    """`POST /api/train` on the ML service, waited for; says how many states the agent knows."""
    async with httpx.AsyncClient(base_url=ml_url.rstrip("/"), headers=headers, timeout=30) as ml:
        try:
            job = (await ml.post("/api/train", json={})).raise_for_status().json()
            columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
            with Progress(*columns, console=console) as progress:
                progress.add_task(f"ML retraining (job {job['id']})", total=None)
                while job["status"] not in ("succeeded", "failed"):
                    await asyncio.sleep(TRAIN_POLL_S)
                    job = (await ml.get(f"/api/train/{job['id']}")).raise_for_status().json()
            if job["status"] != "succeeded":
                console.print(f"[red]retraining failed: {job.get('error')}[/]")
                return 1
            agent = (await ml.get("/api/models")).raise_for_status().json().get("rl_agent")
        except httpx.HTTPError as exc:
            console.print(f"[red]retraining failed, the ML service at {ml_url}: {exc}[/]")
            return 1
    coverage = agent.get("coverage") if isinstance(agent, dict) else None
    learned = (
        f"it knows {coverage['states_learned']} of its {coverage['states']} states"
        if isinstance(coverage, dict)
        else "its table is new"
    )
    console.print(f"the agent retrained on the chain's market: {learned}")
    return 0


def main(argv: list[str] | None = None) -> int:
    settings = ScannerSettings()
    parser = argparse.ArgumentParser(prog="titan", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    opp = sub.add_parser("opportunities", help="the scanner's latest opportunities")
    opp.add_argument("--watch", action="store_true", help="a live table from the WebSocket")
    opp.add_argument("--url", default=settings.scanner_url, help="the scanner (SCANNER_URL)")
    opp.add_argument("--limit", type=int, default=25)
    rep = sub.add_parser("replay", help="replay verified opportunities for the RL agent")
    rep.add_argument("--url", default=settings.scanner_url, help="the scanner (SCANNER_URL)")
    rep.add_argument(
        "--out",
        type=Path,
        default=Path("data/rl_replay.csv"),
        help="merged into when it exists (the ML service reads ML_DATA_DIR/rl_replay.csv)",
    )
    rep.add_argument("--blocks", type=int, default=500, help="the chain's last N blocks")
    rep.add_argument("--limit", type=int, default=2000, help="opportunities at most")
    rep.add_argument(
        "--train",
        action="store_true",
        help="then retrain the ML service on them (its ML_DATA_DIR must be where --out writes)",
    )
    rep.add_argument("--ml-url", default=settings.ml_url, help="the ML service (ML_URL)")
    pap = sub.add_parser("paper-trades", help="the scanner's paper trades, into a CSV file")
    pap.add_argument("--url", default=settings.scanner_url, help="the scanner (SCANNER_URL)")
    pap.add_argument(
        "--out",
        type=Path,
        default=Path("data") / PAPER_TRADES_FILE,
        help="merged into when it exists (the ML service reads ML_DATA_DIR/paper_trades.csv)",
    )
    args = parser.parse_args(argv)
    headers = {"x-api-key": settings.api_key.get_secret_value()} if settings.api_key else {}
    console = Console()
    if args.command == "paper-trades":
        return asyncio.run(paper_trades(args.url, headers, args.out, console))
    if args.command == "replay":
        code = asyncio.run(
            replay(settings, args.url, headers, args.out, args.blocks, args.limit, console)
        )
        if code != 0 or not args.train:
            return code
        return asyncio.run(train_agent(args.ml_url, headers, console))
    if args.watch:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(watch(args.url, headers, args.limit, console))
        return 0
    try:
        response = httpx.get(
            f"{args.url.rstrip('/')}/api/opportunities",
            params={"limit": args.limit},
            headers=headers,
            timeout=5,
        )
    except httpx.HTTPError as exc:
        console.print(f"[red]no scanner at {args.url}: {exc}[/]")
        return 1
    if response.status_code != 200:
        console.print(f"[red]{response.status_code}: {response.text[:200]}[/]")
        return 1
    console.print(table(response.json()["items"], f"{args.url}: latest"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
