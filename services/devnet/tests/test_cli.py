"""`titan-devnet up` as a user runs it: ready line, clean stop, one-line errors for bad input."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from titan_devnet.anvil import free_port, port_is_free

CLI = [sys.executable, "-m", "titan_devnet.cli", "up"]


def run(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(CLI + args, capture_output=True, text=True, timeout=timeout)


def test_unknown_scenario_is_one_line_and_exit_2() -> None:
    result = run(["--scenario", "nope", "--port", str(free_port())])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: unknown scenario 'nope' (known: bench, default, large, xlarge)"
    ]


def test_malformed_scenario_file_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "bad", "tokens": [], "markets": [], "v3_ranges": []}))
    result = run(["--scenario", str(bad), "--port", str(free_port())])
    assert result.returncode == 2
    assert result.stderr.startswith("error: malformed scenario bad.json")
    bad.write_text("{not json")
    assert run(["--scenario", str(bad)]).returncode == 2


def test_taken_port_is_rejected_and_nothing_is_left_running() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(["--port", str(port)])
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: port {port} is already in use"


def test_up_prints_ready_then_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    manifest = tmp_path / "manifest.json"
    errors = (tmp_path / "stderr.txt").open("w")
    proc = subprocess.Popen(
        [*CLI, "--port", str(port), "--block-time", "1", "--manifest", str(manifest)],
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        why = (tmp_path / "stderr.txt").read_text()[-2000:]
        assert line == f"ready http://127.0.0.1:{port} {manifest}", why
        data = json.loads(manifest.read_text())
        assert data["rpc_url"] == f"http://127.0.0.1:{port}"
        assert data["chain_id"] == 31337 and len(data["pools"]) > 30
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert proc.stdout is not None
        proc.stdout.close()
        errors.close()
    assert port_is_free(port)


def _answers(url: str) -> bool:
    body = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return bool(json.loads(response.read())["result"] == hex(31337))
    except OSError:
        return False


def test_host_0_0_0_0_serves_every_interface_and_names_loopback(tmp_path: Path) -> None:
    # A container's devnet listens on every interface. 127.0.0.2 is this host too, but only a
    # wildcard bind answers there: the default 127.0.0.1 bind does not.
    port = free_port()
    manifest = tmp_path / "manifest.json"
    proc = subprocess.Popen(
        [*CLI, "--port", str(port), "--host", "0.0.0.0", "--no-flow", "--manifest", str(manifest)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == f"ready http://127.0.0.1:{port} {manifest}"
        assert json.loads(manifest.read_text())["rpc_url"] == f"http://127.0.0.1:{port}"
        assert _answers(f"http://127.0.0.2:{port}")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert proc.stdout is not None
        proc.stdout.close()


def test_default_host_is_loopback_only(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*CLI, "--port", str(port), "--no-flow", "--manifest", str(tmp_path / "m.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("ready ")
        assert _answers(f"http://127.0.0.1:{port}")
        assert not _answers(f"http://127.0.0.2:{port}")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert proc.stdout is not None
        proc.stdout.close()
