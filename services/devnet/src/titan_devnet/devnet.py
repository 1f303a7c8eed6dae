"""Bring a devnet up: anvil, then the scenario from the snapshot cache or a fresh deploy.

The snapshot (anvil's state dump) and its manifest are cached outside the clone, keyed by
everything that decides the deployed state, so a second start is ready in seconds.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3

from titan_devnet import artifacts, deploy, scenario
from titan_devnet.anvil import Anvil
from titan_devnet.chain import Chain

CACHE_DIR = Path.home() / ".cache" / "titan" / "devnet"
# The flow's block gas limit: small, so that the flow's busy blocks move the base fee up and
# its quiet ones down (EIP-1559's target is half the limit), from a realistic starting point.
FLOW_GAS_LIMIT = 2_000_000
START_BASE_FEE = 20 * 10**9


@dataclass
class RunningDevnet:
    anvil: Anvil
    w3: Web3
    manifest: dict[str, Any]
    manifest_path: Path
    from_snapshot: bool
    ready_seconds: float

    def stop(self) -> None:
        self.anvil.stop()


def cache_key(scenario_name: str, seed: int) -> str:
    code = Path(__file__).parent
    digest = hashlib.sha256(f"{scenario_name}:{seed}".encode())
    digest.update(scenario.load(scenario_name).model_dump_json().encode())
    digest.update(artifacts.sources_digest().encode())
    for module in ("deploy.py", "scenario.py", "chain.py", "batch.py"):
        digest.update((code / module).read_bytes())
    return digest.hexdigest()[:16]


def exit_on_sigterm() -> None:
    """Make SIGTERM raise SystemExit in this process, so the `finally` blocks that stop a
    devnet (and the services a script started beside it, each in a session of its own) run.
    By default Python ends on the spot and leaves them all running."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def start(
    port: int,
    scenario_name: str = "default",
    seed: int = 1,
    manifest_path: Path = Path("run/devnet/manifest.json"),
    block_time: float = 0.0,
    show_progress: bool = False,
    gas_limit: int = FLOW_GAS_LIMIT,
    host: str = "127.0.0.1",
) -> RunningDevnet:
    """Start anvil on `host`:`port` with the scenario deployed; `block_time` 0 means automine."""
    started = time.perf_counter()
    spec = scenario.load(scenario_name)  # fails before anything starts
    key = cache_key(scenario_name, seed)
    state_file = CACHE_DIR / f"{spec.name}-{key}.state.json"
    cached_manifest = CACHE_DIR / f"{spec.name}-{key}.manifest.json"
    from_snapshot = state_file.is_file() and cached_manifest.is_file()
    anvil = Anvil(port, load_state=state_file if from_snapshot else None, host=host)
    anvil.start()
    try:
        w3 = Web3(Web3.HTTPProvider(anvil.rpc_url, request_kwargs={"timeout": 60}))
        chain = Chain(w3)
        if from_snapshot:
            manifest = json.loads(cached_manifest.read_text())
        else:
            manifest = deploy.deploy(w3, spec, seed, show_progress=show_progress)
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            # anvil_dumpState is gzipped JSON in hex; --load-state reads the JSON.
            dump = bytes.fromhex(chain.rpc("anvil_dumpState").removeprefix("0x"))
            _write_atomic(state_file, gzip.decompress(dump).decode())
            _write_atomic(cached_manifest, json.dumps(manifest))
        manifest = {**manifest, "rpc_url": anvil.rpc_url, "ws_url": anvil.ws_url}
        chain.rpc("evm_setBlockGasLimit", hex(gas_limit))
        chain.rpc("anvil_setNextBlockBaseFeePerGas", hex(START_BASE_FEE))
        if block_time > 0:
            chain.rpc("evm_setAutomine", False)
            chain.rpc("evm_setIntervalMining", int(block_time) if block_time >= 1 else 1)
        manifest_path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(manifest_path, json.dumps(manifest, indent=2))
    except BaseException:
        anvil.stop()
        raise
    return RunningDevnet(
        anvil, w3, manifest, manifest_path, from_snapshot, time.perf_counter() - started
    )


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
