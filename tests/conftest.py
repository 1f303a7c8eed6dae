"""Cross-service fixtures: the engine binary as a real process beside the session's devnet."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
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
def engine_url(devnet: Devnet) -> Iterator[str]:
    binary = engine_binary()
    if binary is None:
        pytest.skip("engine binary not built (run `make setup`; ENGINE_BIN points at it)")
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
