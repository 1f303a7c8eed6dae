"""Ingest benchmarks on a devnet: snapshot time, discovery time, and the latency from a log's
arrival at ingest to the update reaching a `WS /ws/pools` client.

    uv run python services/ingest/bench/bench_ingest.py                  # default scenario
    uv run python services/ingest/bench/bench_ingest.py --scenario large # 1,104 pools
    uv run python services/ingest/bench/bench_ingest.py --scenario xlarge  # 10,002 pools
    uv run python services/ingest/bench/bench_ingest.py --seconds 20     # shorter latency run

Starts its own devnet (titan_devnet, from its snapshot cache when present) and ingest as a
separate process (`python -m titan_ingest`), and stops both at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import TypeAdapter
from websockets.asyncio.client import connect

from titan_common.clients import IngestClient
from titan_common.models import BlockComplete, IngestMessage, PoolUpdate
from titan_devnet import devnet as devnet_module
from titan_devnet.flow import MarketFlow
from titan_ingest.chain.config import ChainConfig, PoolMeta
from titan_ingest.chain.rpc import RpcClient
from titan_ingest.discovery.factories import FactoryDiscovery, explicit_pools
from titan_ingest.snapshot.helper import HelperSnapshotReader
from titan_ingest.snapshot.reader import SnapshotReader


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def pct(values: list[float], q: float) -> float | None:
    """The q-quantile, rounded to the microsecond; None when nothing was measured."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


async def bench_snapshot(rpc_url: str, metas: list[PoolMeta], rounds: int) -> dict[str, Any]:
    rpc = RpcClient([rpc_url], timeout=120)
    out: dict[str, Any] = {"pools": len(metas), "v3_pools": sum(m.kind == "v3" for m in metas)}
    try:
        head = await rpc.header("latest")
        for name, reader_cls in (("helper", HelperSnapshotReader), ("batch", SnapshotReader)):
            times = []
            for _ in range(rounds):
                reader = reader_cls(rpc)
                started = time.perf_counter()
                entries = await reader.read(metas, head.number, head.hash)
                times.append(time.perf_counter() - started)
            out[f"{name}_seconds"] = round(statistics.median(times), 3)
            out["ticks"] = sum(len(e.ticks) for e in entries)
        chain_cfg = ChainConfig.from_manifest(MANIFEST)
        started = time.perf_counter()
        found = await FactoryDiscovery(rpc, chain_cfg).discover(head.number, 0)
        out["discovery_seconds"] = round(time.perf_counter() - started, 3)
        out["discovered"] = len(found)
    finally:
        await rpc.close()
    return out


def run_flow(rpc_url: str, manifest: dict[str, Any], stop: Any, pause: float) -> None:
    """The market flow, in its own process: it must not share this one's GIL."""
    from web3 import Web3

    flow = MarketFlow(Web3(Web3.HTTPProvider(rpc_url)), manifest, seed=5)
    while not stop.is_set():
        flow.step()
        stop.wait(pause)


async def bench_latency(
    rpc_url: str, manifest_path: Path, seconds: float, pause: float
) -> dict[str, Any]:
    port = free_port()
    env = {
        **os.environ,
        "INGEST_PORT": str(port),
        "DEVNET_MANIFEST": str(manifest_path),
        "INGEST_PROGRESS": "false",
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen([sys.executable, "-m", "titan_ingest"], env=env)  # noqa: ASYNC220
    spawn = multiprocessing.get_context("spawn")
    stop = spawn.Event()
    latencies: list[float] = []
    marker_latencies: list[float] = []
    out: dict[str, Any] = {}
    message_of: TypeAdapter[PoolUpdate | BlockComplete] = TypeAdapter(IngestMessage)
    typed = IngestClient(f"http://127.0.0.1:{port}", timeout=5)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            started = time.perf_counter()
            async with asyncio.timeout(300):
                while True:
                    try:
                        if (await client.get("/ready")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.05)
            out["ready_seconds"] = round(time.perf_counter() - started, 2)
            out["rss_mb_after_snapshot"] = rss_mb(proc.pid)
            async with connect(f"ws://127.0.0.1:{port}/ws/pools", max_size=None) as ws:
                pools = (await typed.stats()).pools
                for _ in range(pools + 1):  # the snapshot and its block marker
                    await ws.recv()
                flow = spawn.Process(target=run_flow, args=(rpc_url, MANIFEST, stop, pause))
                flow.start()
                load_before = os.getloadavg()
                # The consumer only stamps each frame's arrival: what it would do with it
                # (validation) waits until the end, and the lag is sampled in a task of its
                # own, so no frame waits on the bench's HTTP round trip to /api/stats.
                arrivals: list[tuple[float, str | bytes]] = []
                lags: list[int] = []
                sampler = asyncio.create_task(sample_lag(typed, lags))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(seconds):  # no task per frame, as wait_for made
                        async for raw in ws:
                            arrivals.append((time.time(), raw))
                sampler.cancel()
                load_after = os.getloadavg()
                stop.set()
                flow.join(30)
                stats = await typed.stats()
        for now, raw in arrivals:
            message = message_of.validate_json(raw)
            if isinstance(message, BlockComplete):
                if message.received_at is not None:  # head arrival -> marker here
                    marker_latencies.append((now - message.received_at) * 1000)
            elif message.received_at is not None and not message.removed:
                latencies.append((now - message.received_at) * 1000)
        out.update(
            {
                "updates": len(latencies),
                "p50_ms": pct(latencies, 0.50),
                "p90_ms": pct(latencies, 0.90),
                "p99_ms": pct(latencies, 0.99),
                "max_ms": pct(latencies, 1.0),
                "block_markers": len(marker_latencies),
                "block_marker_p50_ms": pct(marker_latencies, 0.50),
                "block_marker_p99_ms": pct(marker_latencies, 0.99),
                "lag_blocks_max": max(lags) if lags else None,
                "lag_blocks_samples": len(lags),
                # Tails on the shared 2-core machine follow its load: kept beside the figures.
                "load_average_before": [round(v, 2) for v in load_before],
                "load_average_after": [round(v, 2) for v in load_after],
                "events_applied": stats.events_applied,
                "events_late": stats.events_late,
                "ingest_publish_latency_ms": stats.publish_latency_ms,
                "rss_mb_end": rss_mb(proc.pid),
            }
        )
    finally:
        await typed.aclose()
        stop.set()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return out


async def sample_lag(typed: IngestClient, lags: list[int]) -> None:
    """Ingest's lag behind the node's head, once a second."""
    while True:
        lags.append((await typed.stats()).lag_blocks)
        await asyncio.sleep(1)


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


MANIFEST: dict[str, Any] = {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="default")
    # ~8 updates a second on the large scenario: a minute gives ~500, so the p99 is not
    # just the largest of a few dozen.
    parser.add_argument("--seconds", type=float, default=60.0, help="latency run length")
    parser.add_argument("--pause", type=float, default=0.05, help="flow pause between steps")
    parser.add_argument("--rounds", type=int, default=3, help="snapshot repetitions")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    devnet_module.exit_on_sigterm()  # bench/run.py stops a run past its time with SIGTERM
    with tempfile.TemporaryDirectory() as tmp:
        manifest_path = Path(tmp) / "manifest.json"
        started = time.perf_counter()
        running = devnet_module.start(free_port(), args.scenario, 1, manifest_path)
        print(f"devnet {args.scenario} up in {time.perf_counter() - started:.1f} s", flush=True)
        try:
            MANIFEST.update(running.manifest)
            metas = explicit_pools(ChainConfig.from_manifest(running.manifest))
            rpc_url = running.manifest["rpc_url"]
            results = {
                "scenario": args.scenario,
                "snapshot": asyncio.run(bench_snapshot(rpc_url, metas, args.rounds)),
                "latency": asyncio.run(
                    bench_latency(rpc_url, manifest_path, args.seconds, args.pause)
                ),
            }
        finally:
            running.stop()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
