"""`make up`'s launcher (`scripts/up.py`) as a new user runs it: from a directory with nothing
in it, every service comes up on the devnet, opportunities flow, the agent retrains on them,
and Ctrl-C (SIGINT) stops every process it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from titan_devnet.anvil import free_port

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("devnet", "engine", "ml", "ingest", "scanner")
PORT_VARIABLES = {
    "devnet": "DEVNET_PORT",
    "engine": "RUST_SERVER_PORT",
    "ml": "ML_PORT",
    "ingest": "INGEST_PORT",
    "scanner": "SCANNER_PORT",
}


def _refused(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _wait_for_line(
    lines: list[str], text: str, proc: subprocess.Popen[str], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while not any(text in line for line in lines):
        if proc.poll() is not None:
            pytest.fail(f"up.py exited with {proc.returncode}:\n{''.join(lines)}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {text!r} after {timeout:.0f} s:\n{''.join(lines)}")
        time.sleep(0.2)


def _by_source(scanner: str) -> dict[str, int]:
    """The scanner's count of the policy's answers by who made them inside ML."""
    by_source: dict[str, int] = httpx.get(f"{scanner}/api/stats", timeout=5).json()["policy"][
        "by_source"
    ]
    return by_source


@pytest.mark.devnet
@pytest.mark.slow
def test_up_runs_everything_and_ctrl_c_stops_it(tmp_path: Path, engine_bin: Path) -> None:
    ports = {name: free_port() for name in SERVICES}
    shared = os.environ.get("TITAN_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ML_", "CHAIN_", "TITAN_"))},
        **{PORT_VARIABLES[name]: str(port) for name, port in ports.items()},
        "ENGINE_BIN": str(engine_bin.resolve()),
        "TITAN_SHARED_DATA": str(Path(shared).resolve()),
        "TITAN_CONFIG_FILE": os.devnull,
        "UP_TRAIN_AGENT_AFTER": "30",
    }
    # a fresh directory: run/, data/ (models trained on first start, the history) land there
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "up.py")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or ()), daemon=True)
    reader.start()
    try:
        _wait_for_line(lines, "Titan is running", proc, timeout=300)
        urls = {name: f"http://127.0.0.1:{ports[name]}" for name in SERVICES[1:]}
        for name, url in urls.items():
            assert httpx.get(f"{url}/health", timeout=5).status_code == 200, name
            assert url in "".join(lines), f"{name} not announced"
        assert (tmp_path / "data" / "models" / "forecaster_metadata.json").is_file()
        deadline = time.monotonic() + 90
        items: list[dict[str, object]] = []
        while not items and time.monotonic() < deadline:
            time.sleep(1)
            answer = httpx.get(f"{urls['scanner']}/api/opportunities", timeout=5).json()
            items = answer["items"]
        assert items, "no opportunity in 90 s of the devnet's market flow"
        print(f"make up: {len(items)} opportunities up to block {items[0]['block_number']}")

        # The agent learns the devnet's market: it decides most trades after, few before.
        _wait_for_line(lines, "teaching the agent", proc, timeout=120)
        before = _by_source(urls["scanner"])
        _wait_for_line(lines, "the agent retrained on the chain's market", proc, timeout=300)
        assert (tmp_path / "data" / "rl_replay.csv").is_file()
        retrained = _by_source(urls["scanner"])
        time.sleep(10)
        after = _by_source(urls["scanner"])
        window = {k: after.get(k, 0) - retrained.get(k, 0) for k in after}
        print(f"policy answers by source before the retraining {before}, 10 s after {window}")
        assert window.get("rl_agent", 0) > window.get("threshold_rule", 0)
        assert before.get("rl_agent", 0) < before.get("threshold_rule", 0)
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            code = proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.terminate()  # its children run in sessions of their own: let it stop them
            proc.wait(timeout=90)
            raise
        reader.join(timeout=5)
        proc.stdout.close()
    out = "".join(lines)
    assert code == 0, out
    for name in SERVICES:
        assert f"stopped {name}" in out, out
        assert _refused(ports[name]), f"{name} still listens on {ports[name]}"
