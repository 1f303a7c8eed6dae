"""The four services as real processes on the session's devnet, for schemathesis; counts the
fuzz cases run per service and prints them at the end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from titan_devnet.testing import Devnet

# Cases run per service, printed in the terminal summary (RELIABILITY.md quotes them).
CASES: Counter[str] = Counter()


@pytest.fixture(scope="session")
def fuzz_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-logs")


@pytest.fixture(scope="session")
def engine(launcher: Any, devnet: Devnet, fuzz_logs: Path) -> Iterator[Any]:
    with launcher.engine(fuzz_logs / "engine.log", CHAIN_RPC_URL=devnet.rpc_url) as svc:
        yield svc


@pytest.fixture(scope="session")
def ml(launcher: Any, devnet: Devnet, fuzz_logs: Path, tmp_path_factory: Any) -> Iterator[Any]:
    # no models in a fresh data dir: the baseline answers, and a training run (POST /api/train)
    # writes here, never into the developer's data
    data = tmp_path_factory.mktemp("ml-data")
    with launcher.python("ml", fuzz_logs / "ml.log", CHAIN_RPC_URL=devnet.rpc_url,
                         ML_DATA_DIR=str(data)) as svc:  # fmt: skip
        yield svc


@pytest.fixture(scope="session")
def ingest(launcher: Any, devnet: Devnet, fuzz_logs: Path) -> Iterator[Any]:
    env = {
        "CHAIN_RPC_URL": devnet.rpc_url,
        "CHAIN_WS_URL": devnet.ws_url,
        "DEVNET_MANIFEST": str(devnet.manifest_path),
        "INGEST_PROGRESS": "false",
    }
    with launcher.python("ingest", fuzz_logs / "ingest.log", **env) as svc:
        yield svc


@pytest.fixture(scope="session")
def scanner(
    launcher: Any, devnet: Devnet, engine: Any, ml: Any, ingest: Any, fuzz_logs: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Any]:  # fmt: skip
    db = tmp_path_factory.mktemp("scanner") / "scanner.db"
    env = {
        "CHAIN_RPC_URL": devnet.rpc_url,
        "DEVNET_MANIFEST": str(devnet.manifest_path),
        "DATABASE_URL": f"sqlite:///{db}",
        "ENGINE_URL": engine.url,
        "ML_URL": ml.url,
        "INGEST_URL": ingest.url,
    }
    with launcher.python("scanner", fuzz_logs / "scanner.log", **env) as svc:
        yield svc


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if CASES:
        cases = ", ".join(f"{name} {count}" for name, count in sorted(CASES.items()))
        terminalreporter.write_line(f"fuzz cases run: {cases} (total {sum(CASES.values())})")
