"""`make up`: start the devnet (with its market flow) and every Titan service that exists.

Each child runs in its own process group with its output in `run/logs/<name>.log`; the
script waits for each to be healthy, prints where everything answers, and on Ctrl-C or
SIGTERM stops them all, newest first.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO

from pydantic_settings import BaseSettings, SettingsConfigDict

RUN_DIR = Path("run")
ML_METADATA = Path("models/forecaster_metadata.json")


class LauncherSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    devnet_port: int = 8545
    rust_server_port: int = 3000
    ingest_port: int = 8001
    scanner_port: int = 8002
    ml_port: int = 8003
    devnet_scenario: str = "default"
    devnet_seed: int = 1
    devnet_block_time: float = 1.0
    engine_bin: Path = Path("services/engine-rs/target/release/titan_server")
    ml_data_dir: Path = Path("data")  # where the ML service looks for its models
    # Seconds of the devnet's market after which the agent is retrained on it (0: never).
    up_train_agent_after: float = 120.0


class Launcher:
    def __init__(self, settings: LauncherSettings) -> None:
        self.settings = settings
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        (RUN_DIR / "logs").mkdir(parents=True, exist_ok=True)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (RUN_DIR / "logs" / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            argv,
            env={**os.environ, **env},
            stdout=subprocess.PIPE if name == "devnet" else log,
            stderr=log,
            start_new_session=True,
        )
        self.children.append((name, proc))
        return proc

    def stop_all(self) -> None:
        # A second Ctrl-C or SIGTERM must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for name, proc in reversed(self.children):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            print(f"stopped {name}")


class AgentLesson(threading.Thread):
    """After `after` seconds of the devnet's market: the scanner's verified opportunities
    replayed on the chain and the ML service retrained with them (`titan replay --train`). The agent
    ships knowing 51 mainnet opportunities, few of the devnet's states; until then its
    threshold rule decides most of the devnet's trades."""

    def __init__(
        self, after: float, urls: dict[str, str], data_dir: Path, env: dict[str, str]
    ) -> None:
        super().__init__(daemon=True)
        self.after, self.urls, self.data_dir, self.env = after, urls, data_dir, env
        self.stopped = threading.Event()
        self.proc: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        self.stopped.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()

    def run(self) -> None:
        if self.stopped.wait(self.after):
            return
        log_path = RUN_DIR / "logs" / "agent.log"
        print(
            f"teaching the agent the devnet's market: titan replay, then POST /api/train "
            f"(progress in {log_path})",
            flush=True,
        )
        argv = [sys.executable, "-m", "titan_scanner.cli", "replay", "--url", self.urls["scanner"]]
        argv += [
            "--out",
            str(self.data_dir / "rl_replay.csv"),
            "--train",
            "--ml-url",
            self.urls["ml"],
        ]
        with log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                argv, env={**os.environ, **self.env}, stdout=log, stderr=log
            )
            code = self.proc.wait()
        if self.stopped.is_set():
            return
        lines = log_path.read_text(errors="replace").strip().splitlines()
        if code != 0:
            print(f"teaching the agent failed (exit {code}); see {log_path}", flush=True)
        elif lines:
            print(lines[-1], flush=True)  # what the agent knows now


def _drain(stream: IO[bytes]) -> None:
    with (RUN_DIR / "logs" / "devnet.out").open("wb") as out:
        for chunk in stream:
            out.write(chunk)


def wait_healthy(name: str, url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see run/logs/{name}.log")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{name} not healthy at {url} after {timeout:.0f} s")


def start_devnet(launcher: Launcher) -> tuple[str, str]:
    s = launcher.settings
    manifest = RUN_DIR / "devnet" / "manifest.json"
    argv = ["titan-devnet", "up", "--port", str(s.devnet_port), "--scenario", s.devnet_scenario]
    argv += ["--seed", str(s.devnet_seed), "--block-time", str(s.devnet_block_time)]
    argv += ["--manifest", str(manifest)]
    proc = launcher.start("devnet", argv, {})
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.decode().strip()
        if line.startswith("ready "):
            _, rpc_url, manifest_path = line.split()
            # Keep draining the devnet's output so it never blocks on a full pipe.
            threading.Thread(target=_drain, args=(proc.stdout,), daemon=True).start()
            return rpc_url, manifest_path
    raise RuntimeError("the devnet stopped before it was ready; see run/logs/devnet.log")


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def python_service(name: str) -> bool:
    return importlib.util.find_spec(f"titan_{name}") is not None


def main() -> int:
    s = LauncherSettings()
    launcher = Launcher(s)
    # SIGINT too: a shell starts a background job with SIGINT ignored, and Python then leaves it
    # so, which made `make up &` deaf to `kill -INT` (and to Ctrl-C through a script).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    lesson: AgentLesson | None = None
    try:
        print(f"starting the devnet on port {s.devnet_port} (scenario {s.devnet_scenario}) ...")
        rpc_url, manifest = start_devnet(launcher)
        ws_url = rpc_url.replace("http", "ws", 1)
        chain_env = {"CHAIN_RPC_URL": rpc_url, "CHAIN_WS_URL": ws_url, "DEVNET_MANIFEST": manifest}
        urls = {
            "engine": f"http://127.0.0.1:{s.rust_server_port}",
            "ml": f"http://127.0.0.1:{s.ml_port}",
            "ingest": f"http://127.0.0.1:{s.ingest_port}",
            "scanner": f"http://127.0.0.1:{s.scanner_port}",
        }
        service_env = {
            **chain_env,
            "ENGINE_URL": urls["engine"],
            "ML_URL": urls["ml"],
            "INGEST_URL": urls["ingest"],
            "SCANNER_URL": urls["scanner"],
        }
        running = {"devnet": rpc_url}
        if s.engine_bin.is_file():
            proc = launcher.start("engine", [str(s.engine_bin)], service_env)
            wait_healthy("engine", urls["engine"], proc)
            running["engine"] = urls["engine"]
        if python_service("ml") and not (s.ml_data_dir / ML_METADATA).is_file():
            # Without trained models the ML service serves baselines only: train once first.
            print("training the ML models once (real fee history; under a minute) ...")
            if subprocess.run([sys.executable, "-m", "titan_ml", "train"]).returncode != 0:
                raise RuntimeError("training the ML models failed; see the output above")
        for name in ("ml", "ingest", "scanner"):
            if python_service(name):
                proc = launcher.start(name, [sys.executable, "-m", f"titan_{name}"], service_env)
                wait_healthy(name, urls[name], proc)
                running[name] = urls[name]
        print("\nTitan is running:")
        for name, url in running.items():
            print(f"  {name:8} {url}")
        if "scanner" in running:
            print(f"  dashboard {urls['scanner']}/")
        print(f"\nmanifest: {manifest}; logs: {RUN_DIR / 'logs'}/; Ctrl-C stops everything.")
        if s.up_train_agent_after > 0 and {"ml", "scanner"} <= set(running):
            lesson = AgentLesson(s.up_train_agent_after, urls, s.ml_data_dir, service_env)
            lesson.start()
        while all(proc.poll() is None for _, proc in launcher.children):
            time.sleep(0.5)
        dead = [name for name, proc in launcher.children if proc.poll() is not None]
        print(f"{', '.join(dead)} stopped unexpectedly; see {RUN_DIR / 'logs'}/", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if lesson is not None:
            lesson.stop()
        launcher.stop_all()


if __name__ == "__main__":
    sys.exit(main())
