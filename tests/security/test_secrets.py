"""An API key and node URLs with credentials never appear in any service's logs, error bodies or
metrics, even when every call to those URLs fails; and every service binds 127.0.0.1 by default.

Each service runs as its own process (DEBUG logs, JSON) configured with the secrets below,
answers requests that make it use the failing URLs, then its log file and answers are searched.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

API_KEY = "zq-api-key-5e1f"
# Port 1 refuses connections: every call through these fails.
RPC_URL = "http://user:pw-secret-7@127.0.0.1:1/key123-rpc"
WS_URL = "ws://user:pw-secret-7@127.0.0.1:1/key123-ws"
SERVICE_URL = "http://svc:pw-secret-7@127.0.0.1:1/key123-svc"
SECRETS = ("zq-api-key-5e1f", "pw-secret-7", "key123")
HEADERS = {"x-api-key": API_KEY}
COMMON = {
    "TITAN_API_KEY": API_KEY,
    "CHAIN_RPC_URL": RPC_URL,
    "CHAIN_WS_URL": WS_URL,
    "LOG_LEVEL": "DEBUG",
}


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@contextlib.contextmanager
def started(launcher: Any, name: str, log: Path, **env: str) -> Iterator[Any]:
    start = launcher.engine(log, **env) if name == "engine" else launcher.python(name, log, **env)
    with start as svc:
        yield svc


def exercise(name: str, url: str) -> list[httpx.Response]:
    """Requests that make the service use its (failing) URLs, and read its metrics."""
    calls: list[tuple[str, str, Any]] = [("GET", "/ready", None), ("GET", "/metrics", None)]
    if name == "engine":
        pool = {"chain_id": 31337, "pool_address": "0x" + "11" * 20, "dex": "uniswap_v2"}
        calls += [("POST", "/api/pool", pool), ("GET", "/api/metrics", None)]
    elif name == "ml":
        calls += [("POST", "/api/forecast/gas", {"chain_id": 31337})]
    elif name == "scanner":
        calls += [("GET", "/api/stats", None), ("GET", "/api/gas", None)]
    else:
        calls += [("GET", "/api/stats", None), ("GET", "/api/pools", None)]
    with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as http:
        answers = [http.request(m, path, json=body) for m, path, body in calls]
        # a wrong key is refused without echoing either key
        answers.append(http.get("/metrics", headers={"x-api-key": "wrong"}))
    return answers


SERVICES = {
    "engine": {},
    "ml": {},
    "ingest": {
        "INGEST_RPC_URLS": RPC_URL,
        "INGEST_WS_URLS": WS_URL,
        "INGEST_CHAIN_CONFIG": "ethereum",
    },
    "scanner": {"ENGINE_URL": SERVICE_URL, "ML_URL": SERVICE_URL, "INGEST_URL": SERVICE_URL},
}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_secrets_stay_out_of_logs_errors_and_metrics(
    name: str, launcher: Any, tmp_path: Path
) -> None:
    env = {**COMMON, **SERVICES[name]}
    if name == "ml":
        env["ML_DATA_DIR"] = str(tmp_path / "ml")
    if name == "scanner":
        env.update(DATABASE_URL=f"sqlite:///{tmp_path}/s.db", BASE_TOKENS="0x" + "22" * 20,
                   SCANNER_NATIVE_TOKEN="0x" + "22" * 20)  # fmt: skip
    with started(launcher, name, tmp_path / f"{name}.log", **env) as svc:
        answers = exercise(name, svc.url)
        if name == "scanner":  # the dashboard's WebSocket gives the key in the query
            with connect(
                f"ws://{svc.url.removeprefix('http://')}/ws/opportunities?api_key={API_KEY}"
            ):
                pass
        time.sleep(2)  # reconnect loops and background fetches log their failures meanwhile
    assert answers[-1].status_code == 401
    assert any(r.status_code >= 500 for r in answers[:-1]) or name == "ingest", [
        (r.request.url.path, r.status_code) for r in answers
    ]
    for r in answers:
        assert not leaks(r.text), (r.request.url.path, r.status_code, r.text)
        assert not leaks(str(r.headers)), r.headers
    logs = svc.logs()
    assert logs.strip(), "the service logged nothing: the test would prove nothing"
    found = [line for line in logs.splitlines() if leaks(line)]
    assert not found, "\n".join(found[:5])


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the LISTEN sockets on `port` (from /proc, no traffic sent)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_binds_loopback_by_default(name: str, launcher: Any, tmp_path: Path) -> None:
    env: dict[str, str] = {}
    if name == "ml":
        env["ML_DATA_DIR"] = str(tmp_path / "ml")
    if name == "scanner":
        env.update(DATABASE_URL=f"sqlite:///{tmp_path}/s.db", BASE_TOKENS="0x" + "22" * 20,
                   SCANNER_NATIVE_TOKEN="0x" + "22" * 20, **SERVICES["scanner"])  # fmt: skip
    if name == "ingest":
        env.update(SERVICES["ingest"])
    with started(launcher, name, tmp_path / f"{name}.log", **env) as svc:
        port = int(svc.url.rsplit(":", 1)[1])
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, and nothing else
