"""The whole system on the session's devnet for the fault tests, with a fault proxy on each link
a test breaks: ingest -> node WebSocket, scanner -> engine, scanner -> ML. The market flow
runs in its own process. One stack for the session: every test leaves it whole again.

`make test-chaos` runs this folder; `make test` does not (it takes ~15 minutes, the soak
`CHAOS_SOAK_SECONDS` of them).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# pytest imports test files by path (importlib mode): the helpers beside this file are found
# as the `chaos` package from `tests/`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chaos.flow import FlowProcess
from chaos.node import interval_mining
from chaos.proxy import ChaosProxy
from chaos.recorder import IngestRecorder

from titan_devnet.testing import Devnet
from titan_scanner.stack import Stack, reserved_ports, start_stack

BLOCK_TIME = 1  # seconds; the flow sends one block's swaps per block
# Figures each test records, printed at the end of the session (RELIABILITY.md quotes them).
REPORT: list[str] = []


@dataclass
class Chaos:
    devnet: Devnet
    stack: Stack
    flow: FlowProcess
    logs: Path
    proxies: dict[str, ChaosProxy] = field(default_factory=dict)
    recorder: IngestRecorder | None = None
    block_time: int = BLOCK_TIME

    def url(self, name: str) -> str:
        return self.stack.processes[name].url

    def report(self, line: str) -> None:
        print(line)
        REPORT.append(line)

    def assert_exact(self, items: list[dict[str, Any]]) -> None:
        """No opportunity's proof paid other than predicted; else why, pool by pool."""
        wrong = [o for o in items if o["verification"]["status"] == "mismatch"]
        if not wrong:
            return
        lines = [
            f"{len(wrong)} of {len(items)} proofs differ: {[o['id'] for o in wrong[:20]]}",
        ]
        for opportunity in wrong[:3]:
            lines.append(
                f"predicted {opportunity['amount_out']}, chain "
                f"{opportunity['verification']['realized_amount_out']}"
            )
            if self.recorder is not None:
                lines += self.recorder.explain(self.devnet, opportunity)
        raise AssertionError("\n".join(lines))


def _engine_bin() -> Path:
    engine_bin = os.environ.get("ENGINE_BIN", "")
    if not engine_bin or not Path(engine_bin).is_file():
        pytest.skip(f"ENGINE_BIN={engine_bin!r} is not a built engine binary (make setup)")
    for package in ("titan_ingest", "titan_ml"):
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"{package} is not installed (make setup)")
    return Path(engine_bin)


@pytest.fixture(scope="session")
def chaos(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chaos]:
    logs = tmp_path_factory.mktemp("chaos")
    # A copy: the engine restarted by a test is the one the session started with, whatever
    # a build does to ENGINE_BIN meanwhile.
    engine_bin = Path(shutil.copy2(_engine_bin(), logs / "titan_server"))
    # the proxies listen on ports of their own while the services' ports are held
    with reserved_ports(2) as (engine_port, ml_port):
        proxies = {
            "node_ws": ChaosProxy("127.0.0.1", devnet.port, "node_ws").start(),
            "engine": ChaosProxy("127.0.0.1", engine_port, "engine").start(),
            "ml": ChaosProxy("127.0.0.1", ml_port, "ml").start(),
        }
    ports = {"engine": engine_port, "ml": ml_port}
    env = {
        "ingest": {"CHAIN_WS_URL": proxies["node_ws"].url("ws")},
        "scanner": {
            "ENGINE_URL": proxies["engine"].url(),
            "ML_URL": proxies["ml"].url(),
            # Every opportunity proven at its block: the tests count mismatches.
            "SCANNER_VERIFY": "all",
        },
    }
    flow = FlowProcess(devnet.rpc_url, devnet.manifest, seed=41, pause=BLOCK_TIME)
    stack = recorder = None
    try:
        interval_mining(devnet, BLOCK_TIME)
        stack = start_stack(devnet, engine_bin, logs, env=env, ports=ports)
        ws_pools = stack.processes["ingest"].url.replace("http", "ws") + "/ws/pools"
        recorder = IngestRecorder(ws_pools).start()
        flow.start()
        yield Chaos(devnet, stack, flow, logs, proxies, recorder)
    finally:
        flow.stop()
        if recorder is not None:
            recorder.stop()
        if stack is not None:
            stack.stop()
        for proxy in proxies.values():
            proxy.close()
        devnet.rpc("evm_setIntervalMining", 0)
        devnet.rpc("evm_setAutomine", True)
        print(f"\nchaos logs in {logs}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if REPORT:
        terminalreporter.section("chaos figures")
        for line in REPORT:
            terminalreporter.write_line(line)
