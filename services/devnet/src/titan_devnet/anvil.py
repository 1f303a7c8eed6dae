"""The anvil process: start it on a port, wait until it answers, stop it."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx

from titan_devnet.artifacts import ANVIL, require_installed

CHAIN_ID = 31337
# The block gas limit while deploying (a V3 pool costs ~5M gas to create).
DEPLOY_GAS_LIMIT = 30_000_000


class PortInUseError(RuntimeError):
    """The port asked for is taken."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As servers bind: a port whose old connections linger in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Anvil:
    """One anvil process, HTTP and WebSocket JSON-RPC on one port.

    It listens on 127.0.0.1 unless told otherwise: a container serves the chain on 0.0.0.0 so
    that the other containers reach it. Its own URLs name the address this host reaches it by.
    """

    def __init__(self, port: int, load_state: Path | None = None, host: str = "127.0.0.1") -> None:
        self.port = port
        self.load_state = load_state
        self.host = host
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def _reach(self) -> str:
        return "127.0.0.1" if self.host == "0.0.0.0" else self.host

    @property
    def rpc_url(self) -> str:
        return f"http://{self._reach}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self._reach}:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        require_installed()
        if not port_is_free(self.port, self.host):
            raise PortInUseError(f"port {self.port} is already in use")
        argv = [
            str(ANVIL),
            "--host", self.host,
            "--port", str(self.port),
            "--chain-id", str(CHAIN_ID),
            "--gas-limit", str(DEPLOY_GAS_LIMIT),
            "--disable-code-size-limit",
            "--accounts", "10",
            "--balance", "100000000",
            "--silent",
            # anvil writes every older block's state to ~/.foundry/anvil/tmp: unbounded, a long
            # flow on the large scenario fills a disk. Keep a bounded window; tests and services
            # only read recent blocks.
            "--max-persisted-states", "64",
        ]  # fmt: skip
        if self.load_state is not None:
            argv += ["--load-state", str(self.load_state)]
        self.process = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"anvil exited with {self.process.returncode}: {err.strip()}")
            try:
                answer = httpx.post(
                    self.rpc_url,
                    json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                    timeout=1.0,
                )
                if answer.status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"anvil did not answer on port {self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None
