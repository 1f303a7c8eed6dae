"""Titan's services as real processes on free ports, for integration tests and benchmarks:
started with their environment, probed until healthy, killed by process group."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

SERVICES = ("engine", "ingest", "ml", "scanner")


@contextlib.contextmanager
def reserved_ports(count: int) -> Iterator[list[int]]:
    """`count` different free ports, held (bound, not listening) until the block ends, so that
    nothing else started in the block (a proxy on port 0) can take one of them."""
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        yield [int(sock.getsockname()[1]) for sock in sockets]


def free_ports(count: int) -> list[int]:
    """`count` different ports, free now. They are taken together: a port closed and asked for
    again can come straight back, and two services on one port fail to start."""
    with reserved_ports(count) as ports:
        return ports


def free_port() -> int:
    return free_ports(1)[0]


@dataclass
class Process:
    name: str
    argv: list[str]
    env: dict[str, str]
    url: str
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                env={**os.environ, **self.env},
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.proc.returncode}: {self.tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not healthy in {timeout} s: {self.tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self.proc = None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""


@dataclass
class Stack:
    devnet: Any
    processes: dict[str, Process] = field(default_factory=dict)

    @property
    def scanner(self) -> str:
        return self.processes["scanner"].url

    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(f"{self.scanner}{path}", params=params, timeout=5)
        return response

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()

    def all_opportunities(self, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = {"limit": 500, **params, **({"cursor": cursor} if cursor else {})}
            body = self.get("/api/opportunities", **query).json()
            items += body["items"]
            cursor = body["next"]
            if cursor is None:
                return items


def wait_until(predicate: Any, timeout: float, what: str, every: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")


def _answer(stack: Stack, path: str) -> str:
    try:
        return str(stack.get(path).text)[:500]
    except httpx.HTTPError as exc:
        return repr(exc)


def start_stack(
    devnet: Any,
    engine_bin: Path,
    logs: Path,
    env: dict[str, dict[str, str]] | None = None,
    ports: dict[str, int] | None = None,
) -> Stack:
    """Engine, ML (when installed), ingest and scanner against `devnet`; stops all on failure.

    `env` adds variables per service (`{"ingest": {...}}`), over the stack's own; `ports`
    chooses a service's port (a fault test puts a proxy in front of it first)."""
    extra = env or {}
    chain = {
        "CHAIN_RPC_URL": devnet.rpc_url,
        "CHAIN_WS_URL": devnet.ws_url,
        "DEVNET_MANIFEST": str(devnet.manifest_path),
        "CHAIN_ID": str(devnet.manifest["chain_id"]),
        "LOG_FORMAT": "json",
        "TITAN_CONFIG_FILE": str(logs / "absent.json"),
    }
    chosen = {name: port for name, port in (ports or {}).items() if port}
    fresh = (p for p in free_ports(len(SERVICES) + len(chosen)) if p not in chosen.values())
    ports = {name: chosen.get(name) or next(fresh) for name in SERVICES}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    services = {
        **chain,
        "ENGINE_URL": urls["engine"],
        "INGEST_URL": urls["ingest"],
        "ML_URL": urls["ml"],
        "SCANNER_URL": urls["scanner"],
    }
    py = sys.executable
    s = Stack(devnet)
    s.processes["engine"] = Process(
        "engine",
        [str(engine_bin)],
        {**services, "RUST_SERVER_PORT": str(ports["engine"]), **extra.get("engine", {})},
        urls["engine"],
        logs / "engine.log",
    )
    have_ml = importlib.util.find_spec("titan_ml") is not None
    if have_ml:
        s.processes["ml"] = Process(
            "ml",
            [py, "-m", "titan_ml"],
            {**services, "ML_PORT": str(ports["ml"]), **extra.get("ml", {})},
            urls["ml"],
            logs / "ml.log",
        )
    s.processes["ingest"] = Process(
        "ingest",
        [py, "-m", "titan_ingest"],
        {
            **services,
            "INGEST_PORT": str(ports["ingest"]),
            "INGEST_PROGRESS": "false",
            **extra.get("ingest", {}),
        },
        urls["ingest"],
        logs / "ingest.log",
    )
    s.processes["scanner"] = Process(
        "scanner",
        [py, "-m", "titan_scanner"],
        {
            **services,
            "SCANNER_PORT": str(ports["scanner"]),
            "DATABASE_URL": f"sqlite:///{logs}/scanner.db",
            "SCANNER_VERIFY": "all",
            "ENABLE_ML_MODELS": "true" if have_ml else "false",
            "SCANNER_PROBE_INTERVAL": "0.5",
            "SCANNER_RECONNECT_MAX": "1.0",
            **extra.get("scanner", {}),
        },
        urls["scanner"],
        logs / "scanner.log",
    )
    try:
        for process in s.processes.values():
            process.start()
        wait_until(lambda: s.get("/ready").status_code == 200, 60, "scanner ready")
    except AssertionError as exc:
        reason = _answer(s, "/ready")
        s.stop()
        raise AssertionError(f"{exc}; its /ready: {reason}; logs in {logs}") from None
    except BaseException:
        s.stop()
        raise
    return s
