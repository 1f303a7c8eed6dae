"""End to end: from a block's arrival at ingest to the opportunity on `WS /ws/opportunities`.

Every part is real: the devnet (anvil, the real Uniswap contracts, the seeded market flow),
the engine binary, ingest, ML and the scanner as processes on free ports. A client of
`WS /ws/opportunities` receives every opportunity; its latency runs from the arrival at ingest
of the first update of its block to the moment the client has it (each opportunity's own
`latency_ms`, to its publication, is kept beside). This collects them until enough come, at
33 pools (`default`) and 1,104 pools (`large`), then offers the flow at rising rates and
reports the pool-update rate the pipeline keeps up with (ingest stays at the node's head,
latency does not grow).

Two ways of mining: automine, a block per flow step as fast as the flow sends them (a stress:
~8 blocks/s), and 1 s blocks, each carrying one step's swaps, as `make up` runs the devnet.
At 1,104 pools anvil 1.7.1 spends 65-80 ms of CPU on every block, empty or not (it rebuilds
the whole state trie; services/ingest/BENCHMARKS.md), so automine measures anvil's CPU as much
as Titan's pipeline.

    uv run python bench/e2e.py [--quick] [--json out.json] [--plot out.png]
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from web3 import Web3
from websockets.sync.client import connect as ws_connect

from titan_devnet import devnet as devnet_module
from titan_devnet.flow import MarketFlow, run_forever
from titan_devnet.testing import Devnet
from titan_scanner.stack import Stack, free_port, start_stack, wait_until

ROOT = Path(__file__).resolve().parent.parent
# Opportunities older than this at publication were found in a resync snapshot, not a block.
RESYNC_AGE_MS = 30_000.0


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(latencies: list[float]) -> dict[str, Any]:
    return {
        "count": len(latencies),
        "p50_ms": quantile(latencies, 0.50),
        "p90_ms": quantile(latencies, 0.90),
        "p99_ms": quantile(latencies, 0.99),
        "max_ms": max(latencies, default=None),
        "mean_ms": statistics.fmean(latencies) if latencies else None,
    }


def latencies_since(stack: Stack, block: int) -> list[float]:
    """The latency of every opportunity published for a block after `block`."""
    return [
        float(o["latency_ms"])
        for o in stack.all_opportunities()
        if o["block_number"] > block and o["latency_ms"] < RESYNC_AGE_MS
    ]


def stats(url: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{url}/api/stats", timeout=5).json()
    return body


def mining(block_time: float) -> str:
    return f"{block_time:g} s blocks" if block_time > 0 else "automine"


@contextmanager
def market_flow(devnet: Devnet, block_time: float) -> Iterator[None]:
    """The flow for `collect`: a step every 50 ms under automine, else one step per block."""
    if block_time <= 0:
        with devnet.flow(seed=11, pause=0.05):
            yield
        return
    market = MarketFlow(Web3(Web3.HTTPProvider(devnet.rpc_url)), devnet.manifest, seed=11)
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(market, stop, block_time), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _receive(url: str, path: str, ready: Any, stop: Any) -> None:
    """The WebSocket client, in a process of its own: in this one the flow's thread signs
    and sends transactions as each block comes, and would hold the GIL while a message
    waits. Only the time and the text here; parsing waits for the end."""
    # The heap forked from the benchmark's process (web3, the devnet, the stack's handles) is
    # taken out of this one's collections: a full one over it would stamp messages late.
    gc.freeze()
    with ws_connect(url, open_timeout=10, max_size=None) as socket, open(path, "w") as out:
        ready.set()
        while not stop.is_set():
            try:
                message = socket.recv(timeout=0.2)
            except TimeoutError:
                continue
            out.write(f"{time.time()}\t{message}\n")


@contextmanager
def subscribed(scanner: str) -> Iterator[list[tuple[float, dict[str, Any]]]]:
    """A client of `WS /ws/opportunities` for the run: every opportunity it receives, with the
    time it came in. The goal is stated up to the opportunity on the WebSocket, so a consumer
    is there to receive it (and the scanner serialises each one for it)."""
    url = scanner.replace("http://", "ws://", 1) + "/ws/opportunities"
    # forked before the flow's thread starts: no main module to import again, no lock held
    spawn = multiprocessing.get_context("fork")
    ready, stop = spawn.Event(), spawn.Event()
    received: list[tuple[float, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="titan-e2e-ws-") as tmp:
        path = str(Path(tmp) / "received.tsv")
        client = spawn.Process(target=_receive, args=(url, path, ready, stop), daemon=True)
        client.start()
        if not ready.wait(30):
            client.kill()
            raise RuntimeError(f"no WebSocket client connected to {url}")
        try:
            yield received
        finally:
            stop.set()
            client.join(timeout=10)
            for line in Path(path).read_text().splitlines():
                at, message = line.split("\t", 1)
                body = json.loads(message)
                if body.get("type") == "opportunity":
                    received.append((float(at), body["data"]))


def received_latencies(received: list[tuple[float, dict[str, Any]]], block: int) -> list[float]:
    """From the block's arrival at ingest to the opportunity in the client's hands: the
    arrival is `detected_at - latency_ms` (the scanner's clock, the same machine's)."""
    return [
        (at - (o["detected_at"] - o["latency_ms"] / 1000)) * 1000
        for at, o in received
        if o["block_number"] > block and o["latency_ms"] < RESYNC_AGE_MS
    ]


def collect(
    devnet: Devnet, stack: Stack, wanted: int, limit_s: float, block_time: float = 0.0
) -> dict[str, Any]:
    """Run the flow until `wanted` opportunities are published after its start (or time out)."""
    start_block = devnet.w3.eth.block_number
    started = time.monotonic()
    scanner = stack.scanner
    before = stats(scanner)["opportunities_published"]
    with subscribed(scanner) as received:
        with market_flow(devnet, block_time):
            while time.monotonic() - started < limit_s:
                count = stats(scanner)["opportunities_published"] - before
                print(f"\r  {count}/{wanted} opportunities", end="", file=sys.stderr, flush=True)
                if count >= wanted:
                    break
                time.sleep(1.0)
        print(file=sys.stderr)
        time.sleep(1.0 + block_time)  # the last block's batch
    published = latencies_since(stack, start_block)
    latencies = received_latencies(received, start_block)
    verification = stats(scanner)["verification"]
    return {
        **summary(latencies),
        "published": summary(published),
        "published_ms": published,
        "seconds": round(time.monotonic() - started, 1),
        "blocks": devnet.w3.eth.block_number - start_block,
        "verification": verification,
        "latencies_ms": latencies,
    }


def ramp(
    devnet: Devnet, stack: Stack, pauses: list[float], window_s: float
) -> list[dict[str, Any]]:
    """Offer the flow at rising rates; at each, the update rate and whether the pipeline kept up.

    Kept up: ingest ends the window at the node's head, and the latency of the window's second
    half is not more than twice its first half's (a lag that grows shows there)."""
    ingest = stack.processes["ingest"].url
    rows = []
    for pause in pauses:
        s0, i0, t0 = stats(stack.scanner), stats(ingest), time.monotonic()
        block0 = devnet.w3.eth.block_number
        with devnet.flow(seed=int(pause * 1000) + 3, pause=pause):
            time.sleep(window_s / 2)
            block_mid = devnet.w3.eth.block_number
            time.sleep(window_s / 2)
        s1, i1, t1 = stats(stack.scanner), stats(ingest), time.monotonic()
        time.sleep(1.0)
        opportunities = stack.all_opportunities()

        def window(lo: int, hi: int, opps: list[dict[str, Any]] = opportunities) -> list[float]:
            return [
                float(o["latency_ms"])
                for o in opps
                if lo < o["block_number"] <= hi and o["latency_ms"] < RESYNC_AGE_MS
            ]

        first, second = window(block0, block_mid), window(block_mid, 1 << 62)
        elapsed = t1 - t0
        p50_first, p50_second = quantile(first, 0.5), quantile(second, 0.5)
        blocks = devnet.w3.eth.block_number - block0
        # anvil's automine mines when a transaction arrives, at most a block's gas of the pool
        # each time; at 1,104 pools (65 ms a block) the flow outruns it and, after a few
        # hundred blocks, its transactions wait in the pool: no blocks, nothing kept up.
        backlog = int(devnet.chain.rpc("txpool_status")["pending"], 16)
        kept_up = (
            blocks > 0
            and i1["lag_blocks"] <= 1
            and (p50_first is None or p50_second is None or p50_second <= 2 * p50_first + 5)
        )
        rows.append(
            {
                "pause_s": pause,
                "blocks_per_s": round(blocks / elapsed, 1),
                "txpool_pending_at_end": backlog,
                "ingest_events_per_s": round(
                    (i1["events_applied"] - i0["events_applied"]) / elapsed, 1
                ),
                "scanner_updates_per_s": round(
                    (s1["updates_processed"] - s0["updates_processed"]) / elapsed, 1
                ),
                "ingest_lag_blocks_at_end": i1["lag_blocks"],
                "latency_first_half": summary(first),
                "latency_second_half": summary(second),
                "kept_up": kept_up,
            }
        )
        print(f"  ramp pause={pause}: {rows[-1]['scanner_updates_per_s']} updates/s, "
              f"kept up: {kept_up}", file=sys.stderr)  # fmt: skip
    return rows


def run_scenario(
    scenario: str, engine_bin: Path, wanted: int, limit_s: float, ramp_pauses: list[float],
    window_s: float, block_time: float = 0.0, repeats: int = 1,
) -> dict[str, Any]:  # fmt: skip
    """`repeats` runs, each on a fresh devnet and stack with the same seeded flow: one run's
    p50 moves by a millisecond with the machine's state, so the figure is taken over the
    opportunities of every run, and each run's own is kept beside it."""
    runs = [
        _run_once(scenario, engine_bin, wanted, limit_s, ramp_pauses if i == 0 else [],
                  window_s, block_time)
        for i in range(repeats)
    ]  # fmt: skip
    if repeats == 1:
        return runs[0]
    result = runs[0]
    latencies = [x for run in runs for x in run["latency"]["latencies_ms"]]
    published = [x for run in runs for x in run["latency"]["published_ms"]]
    verification: dict[str, int] = {}
    for run in runs:
        for status, n in run["latency"]["verification"].items():
            verification[status] = verification.get(status, 0) + n
    result["latency"] = {
        **summary(latencies),
        "published": summary(published),
        "published_ms": published,
        "seconds": round(sum(run["latency"]["seconds"] for run in runs), 1),
        "blocks": sum(run["latency"]["blocks"] for run in runs),
        "verification": verification,
        "latencies_ms": latencies,
        "runs": [
            {k: run["latency"][k] for k in ("count", "p50_ms", "p99_ms", "blocks")} for run in runs
        ],
    }
    return result


def _run_once(
    scenario: str, engine_bin: Path, wanted: int, limit_s: float, ramp_pauses: list[float],
    window_s: float, block_time: float,
) -> dict[str, Any]:  # fmt: skip
    with tempfile.TemporaryDirectory(prefix=f"titan-e2e-{scenario}-") as tmp:
        work = Path(tmp)
        running = devnet_module.start(
            free_port(), scenario, seed=1, manifest_path=work / "m.json", block_time=block_time
        )
        try:
            devnet = Devnet(running)
            stack = start_stack(devnet, engine_bin, work)
            try:
                pools = wait_until(lambda: stats(stack.scanner)["pools"], 120, "scanner pools")
                print(f"{scenario}: {pools} pools, {mining(block_time)}", file=sys.stderr)
                result = {"scenario": scenario, "pools": pools, "block_time_s": block_time}
                result["latency"] = collect(devnet, stack, wanted, limit_s, block_time)
                result["ramp"] = ramp(devnet, stack, ramp_pauses, window_s) if ramp_pauses else []
                return result
            finally:
                stack.stop()
        finally:
            running.stop()


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """The latency distribution per pool count: a histogram and the empirical CDF."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (hist, cdf) = plt.subplots(1, 2, figsize=(11, 4))
    for r in results:
        values = sorted(r["latency"]["latencies_ms"])
        if not values:
            continue
        label = f"{r['pools']} pools, {mining(r.get('block_time_s', 0.0))} (n={len(values)})"
        hist.hist(values, bins=60, alpha=0.55, label=label)
        cdf.plot(values, [(i + 1) / len(values) for i in range(len(values))], label=label)
    hist.set(xlabel="block arrival at ingest → opportunity at a WS client (ms)", ylabel="opportunities",
             title="End-to-end latency")  # fmt: skip
    cdf.set(xlabel="ms", ylabel="fraction ≤ x", title="CDF", xscale="log")
    for ax in (hist, cdf):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="default scenario only, fewer opportunities"
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    devnet_module.exit_on_sigterm()  # bench/run.py stops a run past its time with SIGTERM
    engine_bin = Path(
        os.environ.get("ENGINE_BIN", ROOT / "services/engine-rs/target/release/titan_server")
    )
    if not engine_bin.is_file():
        print(f"no engine binary at {engine_bin} (make setup builds it)", file=sys.stderr)
        return 2
    # scenario, opportunities wanted (per run), time limit, ramp pauses, ramp window, block
    # time, runs
    if args.quick:
        plan = [("default", 150, 120.0, [], 0.0, 0.0, 1)]
    else:
        plan = [
            ("default", 500, 400.0, [0.2, 0.05, 0.0], 20.0, 0.0, 1),
            ("large", 500, 400.0, [0.05, 0.0], 20.0, 0.0, 1),
            ("large", 300, 240.0, [], 0.0, 1.0, 3),  # the goals' scenario
        ]
    results = [run_scenario(s, engine_bin, n, limit, pauses, window, block_time, runs)
               for s, n, limit, pauses, window, block_time, runs in plan]  # fmt: skip
    if args.plot:
        plot(results, args.plot)
    out = {"scenarios": results, "plot": str(args.plot) if args.plot else None}
    text = json.dumps(out, indent=1)
    if args.json:
        args.json.write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
