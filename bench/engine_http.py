"""The engine over HTTP: throughput and latency quantiles with wrk at 1, 16 and 64 connections
on `GET /health`, `POST /api/pool` with state and `POST /api/routes/evaluate` with 100 cycles;
RSS idle and under load; time from process start to ready."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from titan_devnet.anvil import free_port

BENCH_DIR = Path(__file__).resolve().parent
CONNECTIONS = (1, 16, 64)


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) if match else 0


def start_engine(binary: Path) -> tuple[subprocess.Popen[bytes], str, float]:
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "RUST_SERVER_PORT": str(port), "LOG_LEVEL": "warn"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(binary)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=0.2).status_code == 200:
                return proc, url, time.perf_counter() - started
        except httpx.TransportError:
            if proc.poll() is not None or time.perf_counter() - started > 10:
                raise RuntimeError("engine did not start") from None
            time.sleep(0.001)


def wrk(url: str, connections: int, seconds: int, body: Path | None) -> dict[str, Any]:
    if shutil.which("wrk") is None:  # a C tool, not on PyPI or npm: the system's package
        raise SystemExit("error: wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    env = {**os.environ, **({"WRK_BODY": str(body)} if body else {})}
    # One wrk thread: it drives 64 connections faster than the server answers them (five A/B
    # pairs on the engine, BENCHMARKS.md), and a second one only takes a core from the server.
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "-s",
            str(BENCH_DIR / "wrk" / "post_json.lua"),
            url,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.split("WRK_JSON ", 1)[1].splitlines()[0])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def bodies(cases_file: Path, out_dir: Path) -> dict[str, Path]:
    """Request bodies built from the pool-math cases (real devnet states)."""
    cases = json.loads(cases_file.read_text())["cases"]
    v2 = next(c for c in cases if c["state"]["kind"] == "v2")["state"]
    v3 = next(c for c in cases if c["state"]["kind"] == "v3")["state"]
    pool = {
        "chain_id": 31337,
        "pool_address": v2["address"],
        "dex": v2["dex"],
        "state": v2,
        "amount_in": "1000000000000000",
        "zero_for_one": True,
    }
    hop_a = {"pool": v2, "zero_for_one": True}
    hop_b = {"pool": v3, "zero_for_one": False}
    cycles = [{"id": f"c{i}", "hops": [hop_a, hop_b]} for i in range(100)]
    paths = {"pool": out_dir / "body_pool.json", "evaluate": out_dir / "body_evaluate.json"}
    paths["pool"].write_text(json.dumps(pool))
    paths["evaluate"].write_text(json.dumps({"cycles": cycles}))
    return paths


def run(binary: Path, cases_file: Path, out_dir: Path, seconds: int = 5) -> dict[str, Any]:
    results: dict[str, Any] = {"start_to_ready_ms": [], "runs": {}}
    for _ in range(5):
        proc, url, ready = start_engine(binary)
        results["start_to_ready_ms"].append(ready * 1000)
        proc.terminate()
        proc.wait()
    proc, url, _ = start_engine(binary)
    try:
        time.sleep(0.5)
        results["rss_idle_kib"] = rss_kib(proc.pid)
        paths = bodies(cases_file, out_dir)
        check = httpx.post(
            f"{url}/api/routes/evaluate",
            content=paths["evaluate"].read_bytes(),
            headers={"content-type": "application/json"},
        )
        results["evaluate_status"] = check.status_code
        targets = {
            "health": (f"{url}/health", None),
            "pool": (f"{url}/api/pool", paths["pool"]),
            "evaluate_100": (f"{url}/api/routes/evaluate", paths["evaluate"]),
        }
        peak = 0
        for name, (target, body) in targets.items():
            for connections in CONNECTIONS:
                results["runs"][f"{name}_c{connections}"] = wrk(target, connections, seconds, body)
                peak = max(peak, rss_kib(proc.pid))
        results["rss_under_load_kib"] = peak
    finally:
        proc.terminate()
        proc.wait()
    return results
