"""Cross-service fixtures: the engine binary as a real process beside the session's devnet, and
`run_service` to start any service as its own process with its logs in a file."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from titan_devnet.anvil import free_port
from titan_devnet.testing import Devnet


def engine_binary() -> Path | None:
    """The release binary `make` builds (`ENGINE_BIN`), if it is there."""
    path = Path(os.environ.get("ENGINE_BIN", "services/engine-rs/target/release/titan_server"))
    return path if path.is_file() else None


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    binary = engine_binary()
    if binary is None:
        pytest.skip("engine binary not built (run `make setup`; ENGINE_BIN points at it)")
    return binary


@pytest.fixture(scope="session")
def engine_url(devnet: Devnet, engine_bin: Path) -> Iterator[str]:
    binary = engine_bin
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "RUST_SERVER_PORT": str(port),
        "CHAIN_RPC_URL": devnet.rpc_url,
        "LOG_FORMAT": "json",
    }
    proc = subprocess.Popen(
        [str(binary)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"engine exited with {proc.returncode}")
            try:
                if httpx.get(f"{url}/health", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class ServiceProcess:
    """A service running as its own process, as deployed; its stdout and stderr go to `log`."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def logs(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def _run(argv: list[str], env: dict[str, str], log: Path) -> Iterator[ServiceProcess]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=out)
    port = next(v for k, v in env.items() if k.endswith("_PORT"))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{argv} exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/health", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield ServiceProcess(url, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Launcher:
    """Starts a service as its own process on a free port and waits for `/health`. Its
    environment is nothing of the developer's but PATH and the shared data: JSON logs, no
    config.json, the variables given on top."""

    def _env(self, port_var: str, env: dict[str, str]) -> dict[str, str]:
        shared = Path(os.environ.get("TITAN_SHARED_DATA", "../shared/data")).resolve()
        return {
            "PATH": os.environ.get("PATH", ""),
            "TITAN_CONFIG_FILE": os.devnull,
            "TITAN_SHARED_DATA": str(shared),
            "LOG_FORMAT": "json",
            port_var: str(free_port()),
            **env,
        }

    def python(
        self, name: str, log: Path, **env: str
    ) -> contextlib.AbstractContextManager[ServiceProcess]:
        """`ingest`, `scanner` or `ml` (`python -m titan_<name>`)."""
        argv = [sys.executable, "-m", f"titan_{name}"] + (["serve"] if name == "ml" else [])
        return _run(argv, self._env(f"{name.upper()}_PORT", env), log)

    def engine(self, log: Path, **env: str) -> contextlib.AbstractContextManager[ServiceProcess]:
        binary = engine_binary()
        if binary is None:
            pytest.skip("engine binary not built (run `make setup`; ENGINE_BIN points at it)")
        return _run([str(binary)], self._env("RUST_SERVER_PORT", env), log)


@pytest.fixture(scope="session")
def launcher() -> Launcher:
    return Launcher()
