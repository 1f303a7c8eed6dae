"""`docker compose up` runs all of Titan: build every image, start the stack, prove it, scale it.

Builds the five images (with local stand-ins for the public bases from
`docker/build-base-images.sh` when they cannot be pulled), starts the devnet profile under a
project name of its own with free host ports, waits for every health check, then checks
`/health` and `POST /api/pool` through the published engine port, the scanner's API and its
opportunities, scales the scanner to 2 and always ends with `docker compose down -v`.
Skipped, with the reason, when no Docker engine or no Compose v2 answers. Timings are printed
(`pytest -s`) and kept in `run/compose-timings.json`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
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
SERVICES = {
    "engine": "engine-rs",
    "ingest": "ingest",
    "ml": "ml",
    "scanner": "scanner",
    "devnet": "devnet",
}
TAG = os.environ.get("TITAN_TAG", "dev")
BUILD_TIMEOUT = 3600
POOL = "0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f"

pytestmark = pytest.mark.slow


def _run(argv: list[str], timeout: float = 60, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kw)


def _compose_command() -> list[str] | None:
    # Compose v2 as the docker plugin, or as a standalone `docker-compose` (v2 only: v1 lacks --wait).
    for argv in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(argv[0]) is None:
            continue
        done = _run([*argv, "version", "--short"])
        if done.returncode == 0 and re.match(r"v?2\.", done.stdout.strip()):
            return argv
    return None


def _why_not() -> str | None:
    if shutil.which("docker") is None:
        return "no docker CLI on PATH"
    try:
        info = _run(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=15)
    except subprocess.TimeoutExpired:
        return "the Docker engine did not answer within 15 s"
    if info.returncode != 0:
        return f"no Docker engine answers: {info.stderr.strip()[:200]}"
    if _compose_command() is None:
        return "no Docker Compose v2 (`docker compose` plugin or `docker-compose` v2)"
    return None


_REASON = _why_not()
if _REASON is not None:
    print(f"tests/compose skipped: {_REASON}")
    pytest.skip(_REASON, allow_module_level=True)
COMPOSE = _compose_command() or []


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
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as err:
        raw, status = err.read(), err.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def _base_images() -> set[str]:
    stages: set[str] = set()
    bases: set[str] = set()
    for service_dir in SERVICES.values():
        for line in (ROOT / "services" / service_dir / "Dockerfile").read_text().splitlines():
            match = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line.strip(), re.IGNORECASE)
            if match:
                if match.group(1) not in stages:
                    bases.add(match.group(1))
                if match.group(2):
                    stages.add(match.group(2))
    return bases


def _missing(images: set[str]) -> set[str]:
    return {i for i in images if _run(["docker", "image", "inspect", i]).returncode != 0}


def _docker_build_env() -> dict[str, str]:
    env = dict(os.environ)
    # Without the buildx plugin the CLI refuses BuildKit; the classic builder reads the same files.
    if _run(["docker", "buildx", "version"]).returncode != 0:
        env["DOCKER_BUILDKIT"] = "0"
    return env


class Stack:
    """One compose project with its own name and host ports; `down -v` in `close`."""

    def __init__(self) -> None:
        self.project = f"titan-test-{os.getpid()}"
        self.engine_port = _free_port()
        first = _free_port()
        self.env = {
            **os.environ,
            "COMPOSE_PROJECT_NAME": self.project,
            "COMPOSE_PROFILES": "devnet",
            "TITAN_TAG": TAG,
            "ENGINE_PUBLISH": f"127.0.0.1:{self.engine_port}",
            "SCANNER_PUBLISH": f"127.0.0.1:{first}-{first + 3}",
            "DEVNET_BLOCK_TIME": "1",
        }
        self.timings: dict[str, float] = {}

    def compose(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        argv = [
            *COMPOSE,
            "-f",
            str(ROOT / "docker-compose.yml"),
            "--project-directory",
            str(ROOT),
            *args,
        ]
        return _run(argv, timeout=timeout, env=self.env, cwd=ROOT)

    def check(self, *args: str, timeout: float = 600) -> str:
        done = self.compose(*args, timeout=timeout)
        assert done.returncode == 0, f"compose {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def timed(self, name: str, started: float) -> None:
        self.timings[name] = round(time.monotonic() - started, 1)
        print(f"compose test: {name} {self.timings[name]} s", flush=True)

    def scanner_urls(self) -> list[str]:
        urls = []
        for index in range(1, 5):
            done = self.compose("port", "--index", str(index), "scanner", "8002", timeout=30)
            if done.returncode == 0 and done.stdout.strip():
                urls.append(f"http://{done.stdout.strip()}")
        return urls

    def logs(self) -> str:
        return self.compose("logs", "--no-color", "--tail", "40", timeout=60).stdout

    def close(self) -> None:
        started = time.monotonic()
        self.compose("down", "-v", "--remove-orphans", "--timeout", "20", timeout=300)
        self.timed("down -v", started)
        out = ROOT / "run" / "compose-timings.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(self.timings, indent=2) + "\n")


def _build_images(stack: Stack) -> None:
    started = time.monotonic()
    bases = _base_images()
    absent = _missing(bases)
    if absent:
        print(f"compose test: base images absent, building local stand-ins: {sorted(absent)}")
        done = _run(["bash", str(ROOT / "docker" / "build-base-images.sh")], timeout=BUILD_TIMEOUT)
        assert done.returncode == 0, f"build-base-images.sh failed:\n{done.stderr[-3000:]}"
        assert not _missing(bases), f"still missing: {_missing(bases)}"
    stack.timed("base images", started)
    env = _docker_build_env()
    for name, service_dir in SERVICES.items():
        started = time.monotonic()
        argv = ["docker", "build", "-q", "--network", "host", "-t", f"titan/{name}:{TAG}"]
        argv += ["-f", f"services/{service_dir}/Dockerfile", "."]
        done = _run(argv, timeout=BUILD_TIMEOUT, env=env, cwd=ROOT)
        assert done.returncode == 0, f"docker build {name} failed:\n{done.stderr[-4000:]}"
        stack.timed(f"build {name}", started)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    stack = Stack()
    try:
        _build_images(stack)
        started = time.monotonic()
        done = stack.compose(
            "up", "-d", "--no-build", "--wait", "--wait-timeout", "300", timeout=420
        )
        assert done.returncode == 0, f"compose up failed:\n{done.stderr[-3000:]}\n{stack.logs()}"
        stack.timed("up --wait (all healthy)", started)
        yield stack
    finally:
        stack.close()


def test_every_container_healthy(stack: Stack) -> None:
    rows = [json.loads(line) for line in stack.check("ps", "--format", "json").splitlines() if line]
    health = {row["Service"]: row.get("Health", "") for row in rows}
    assert set(health) == set(SERVICES), health
    assert all(h == "healthy" for h in health.values()), health


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
    assert body["quote"]["amount_out"] == "1992", body


def test_scanner_answers_and_finds_opportunities(stack: Stack) -> None:
    urls = stack.scanner_urls()
    assert urls, "the scanner publishes no port"
    status, _ = _http("GET", f"{urls[0]}/health")
    assert status == 200
    status, page = _http("GET", f"{urls[0]}/", timeout=10)
    assert status == 200
    started = time.monotonic()
    items: list[Any] = []
    while time.monotonic() - started < 120 and not items:
        status, page = _http("GET", f"{urls[0]}/api/opportunities")
        assert status == 200, page
        items = page["items"]
        if not items:
            time.sleep(2)
    stack.timed("first opportunity", started)
    assert items, f"no opportunity after 120 s; stats: {_http('GET', urls[0] + '/api/stats')[1]}"


def test_scale_scanner_to_two(stack: Stack) -> None:
    started = time.monotonic()
    stack.env["SCANNER_REPLICAS"] = "2"
    stack.check(
        "up",
        "-d",
        "--no-build",
        "--wait",
        "--wait-timeout",
        "240",
        "--scale",
        "scanner=2",
        timeout=360,
    )
    stack.timed("scale scanner to 2", started)
    urls = stack.scanner_urls()
    assert len(urls) == 2, urls
    for url in urls:
        assert _http("GET", f"{url}/health")[0] == 200
    logs = stack.compose("logs", "--no-color", "scanner", timeout=60).stdout
    shards = sorted(set(re.findall(r"shard (\d+/\d+)", logs)) & {"0/2", "1/2"})
    assert shards == ["0/2", "1/2"], logs[-2000:]
