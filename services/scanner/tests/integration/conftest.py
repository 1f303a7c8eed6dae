"""The whole system as real processes around the session's devnet, torn down always: the
engine binary (`ENGINE_BIN`), ingest, ML (when installed) and the scanner."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from titan_scanner.stack import Stack, start_stack


@pytest.fixture(scope="module")
def stack(devnet: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    engine_bin = os.environ.get("ENGINE_BIN")
    if not engine_bin or not Path(engine_bin).is_file():
        print(f"skipping: no engine binary at ENGINE_BIN={engine_bin!r} (build it: make setup)")
        pytest.skip("ENGINE_BIN is not a built engine binary")
    if importlib.util.find_spec("titan_ingest") is None:
        print("skipping: titan_ingest is not installed")
        pytest.skip("titan_ingest is not installed")
    logs = tmp_path_factory.mktemp("stack")
    devnet.reset()  # the market as deployed, not as earlier tests left it
    s = start_stack(devnet, Path(engine_bin), logs)
    try:
        yield s
    finally:
        s.stop()
        print(f"\nstack logs in {logs}")
