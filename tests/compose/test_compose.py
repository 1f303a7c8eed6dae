"""`docker compose up` runs all of Titan: start the stack from the built images, prove it, scale it.

Runs docker-compose.yml as users run it (`.env.example` as the `.env`, the devnet profile, its
private network), under a project name of its own with free host ports; waits for every health
check; checks `/health` and `POST /api/pool` through the published engine port and the scanner's
opportunities through its published port; scales the scanner to 2 and checks that the two
replicas split the cycles; ends with `docker compose down -v` and checks that nothing of the
project is left.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
POOL = "0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(5400)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http(method: str, url: str, body: Any = None, timeout: float = 10) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as err:
        raw, status = err.read(), err.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


class Stack:
    """One compose project with its own name and host ports."""

    def __init__(self, compose: list[str], timings: Any) -> None:
        # As the README says: `cp .env.example .env && docker compose up` (ports aside).
        self.command = [*compose, "-f", str(ROOT / "docker-compose.yml")]
        self.command += ["--env-file", str(ROOT / ".env.example")]
        self.project = f"titan-test-{os.getpid()}"
        self.engine_port = _free_port()
        first = _free_port()
        self.timings = timings
        self.env = {
            **os.environ,
            "COMPOSE_PROJECT_NAME": self.project,
            "COMPOSE_PROFILES": "devnet",
            "ENGINE_PUBLISH": f"127.0.0.1:{self.engine_port}",
            "SCANNER_PUBLISH": f"127.0.0.1:{first}-{first + 3}",
            "DEVNET_BLOCK_TIME": "1",
        }
        self.env.pop("SCANNER_REPLICAS", None)

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        argv = [*self.command, "--project-directory", str(ROOT), *args]
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, env=self.env, cwd=ROOT
        )

    def check(self, *args: str, timeout: float = 600) -> str:
        done = self.run(*args, timeout=timeout)
        assert done.returncode == 0, f"compose {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def up(self, *extra: str) -> None:
        done = self.run("up", "-d", "--no-build", "--wait", "--wait-timeout", "300", *extra)
        logs = self.run("logs", "--no-color", "--tail", "30", timeout=60).stdout
        assert done.returncode == 0, f"compose up failed:\n{done.stderr[-3000:]}\n{logs[-6000:]}"

    def scanner_urls(self) -> list[str]:
        urls = []
        for index in range(1, 5):
            done = self.run("port", "--index", str(index), "scanner", "8002", timeout=30)
            if done.returncode == 0 and done.stdout.strip():
                urls.append(f"http://{done.stdout.strip()}")
        return urls

    def leftovers(self) -> list[str]:
        label = f"label=com.docker.compose.project={self.project}"
        found = []
        for kind in ("container", "volume", "network"):
            argv = ["docker", kind, "ls", "--quiet", "--filter", label]
            if kind == "container":
                argv.insert(3, "--all")
            out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
            found += [f"{kind} {line}" for line in out.stdout.split()]
        return found


@pytest.fixture(scope="module")
def stack(images: dict[str, str], compose: list[str], timings: Any) -> Iterator[Stack]:
    stack = Stack(compose, timings)
    try:
        started = time.monotonic()
        stack.up()
        timings.record("up --wait (all healthy)", started)
        yield stack
    finally:
        started = time.monotonic()
        stack.run("down", "--volumes", "--remove-orphans", "--timeout", "20", timeout=300)
        timings.record("down -v", started)
    assert stack.leftovers() == [], "docker compose down -v left these behind"


def test_every_container_is_healthy(stack: Stack, images: dict[str, str]) -> None:
    rows = [json.loads(line) for line in stack.check("ps", "--format", "json").splitlines() if line]
    health = {row["Service"]: row.get("Health", "") for row in rows}
    assert health == dict.fromkeys(images, "healthy")


def test_engine_health_and_pool_through_published_port(stack: Stack) -> None:
    base = f"http://127.0.0.1:{stack.engine_port}"
    status, body = _http("GET", f"{base}/health")
    assert status == 200 and body["status"] == "ok", body
    state = {
        "kind": "v2",
        "address": POOL,
        "dex": "uniswap_v2",
        "token0": "0x" + "0" * 39 + "1",
        "token1": "0x" + "0" * 39 + "2",
        "reserve0": "1000000",
        "reserve1": "2000000",
        "fee_bps": 30,
    }
    request = {
        "chain_id": 31337,
        "pool_address": POOL,
        "dex": "uniswap_v2",
        "state": state,
        "amount_in": "1000",
    }
    status, body = _http("POST", f"{base}/api/pool", request)
    assert status == 200, body
    # getAmountOut(1000, 1e6, 2e6) with a 0.3 % fee: 1000*997*2e6 // (1e6*1000 + 1000*997).
    assert body["quote"]["amount_out"] == "1992", body


def test_scanner_finds_opportunities_on_the_devnet(stack: Stack) -> None:
    urls = stack.scanner_urls()
    assert urls, "the scanner publishes no port"
    assert _http("GET", f"{urls[0]}/health")[0] == 200
    started = time.monotonic()
    items: list[Any] = []
    while time.monotonic() - started < 180 and not items:
        status, page = _http("GET", f"{urls[0]}/api/opportunities")
        assert status == 200, page
        items = page["items"]
        if not items:
            time.sleep(2)
    stack.timings.record("first opportunity", started)
    assert items, f"no opportunity after 180 s; stats: {_http('GET', urls[0] + '/api/stats')[1]}"
    assert items[0]["chain_id"] == 31337 and int(items[0]["net_profit"]) >= 0


def test_scale_scanner_to_two_splits_the_cycles(stack: Stack) -> None:
    single = _http("GET", f"{stack.scanner_urls()[0]}/api/stats")[1]
    assert single["shard"] == "0/1", single
    started = time.monotonic()
    stack.env["SCANNER_REPLICAS"] = "2"
    stack.up("--scale", "scanner=2")
    stack.timings.record("scale scanner to 2", started)
    urls = stack.scanner_urls()
    assert len(urls) == 2, urls
    # Healthy comes before the index is built from ingest's snapshot: wait for both indexes.
    deadline = time.monotonic() + 120
    while True:
        stats = [_http("GET", f"{url}/api/stats")[1] for url in urls]
        total = sum(s["cycles_indexed"] for s in stats)
        if total >= single["cycles_indexed"] or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert sorted(s["shard"] for s in stats) == ["0/2", "1/2"], stats
    # The shards partition the one set of cycles that a single scanner indexes.
    counts = [s["cycles_indexed"] for s in stats]
    assert all(0 < c < single["cycles_indexed"] for c in counts), (counts, single)
    assert sum(counts) == single["cycles_indexed"], (counts, single)
