"""`titan-ml bench`: forecast and RL-action latency in process and over HTTP (p50/p99), and
training time on the shipped data. Prints a table and the forecaster's evaluation."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np

from titan_ml.api.schemas import RlStateIn
from titan_ml.forecast.history import FeeHistory, load_base_fee_csv
from titan_ml.forecast.model import MarketForecaster
from titan_ml.serving.actions import decide
from titan_ml.serving.registry import ModelRegistry
from titan_ml.settings import MlSettings
from titan_ml.training.pipeline import TrainOptions, train_all

STATE = {
    "spread_bps": 40,
    "amount_in": str(30 * 10**18),
    "gross_profit": str(12 * 10**16),
    "gas_cost": str(2 * 10**16),
    "hops": 2,
}


def _percentiles(samples: list[float]) -> dict[str, float]:
    us = np.asarray(samples) * 1e6
    return {
        "p50_us": round(float(np.percentile(us, 50)), 1),
        "p99_us": round(float(np.percentile(us, 99)), 1),
        "mean_us": round(float(us.mean()), 1),
    }


def _time(fn: Callable[[], Any], iterations: int) -> dict[str, float]:
    for _ in range(min(100, iterations)):
        fn()
    samples = []
    for _ in range(iterations):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return _percentiles(samples)


def _http(settings: MlSettings, history: FeeHistory, iterations: int) -> dict[str, Any]:
    """The service in its own process (as deployed), measured from this one over keep-alive."""
    port = _free_port()
    env = {
        **os.environ,
        "ML_PORT": str(port),
        "ML_BIND_ADDR": "127.0.0.1",
        "ML_DATA_DIR": str(settings.ml_data_dir.resolve()),
        "TITAN_SHARED_DATA": str(settings.shared_data_dir.resolve()),
        "CHAIN_ID": str(settings.chain_id),
        "LOG_LEVEL": "WARNING",
        "ML_AUTO_RETRAIN": "false",
    }
    server = subprocess.Popen([sys.executable, "-m", "titan_ml", "serve"], env=env)
    fee_history = {
        "oldest_block": history.oldest_block,
        "base_fee_per_gas": [str(int(v)) for v in history.base_fee],
        "gas_used_ratio": [float(v) for v in history.gas_used_ratio],
    }
    calls = {
        "forecast_http (h=1..5, 64-block history in the body)": (
            "/api/forecast/gas",
            {"chain_id": settings.chain_id, "fee_history": fee_history},
        ),
        "forecast_http (h=3, 64-block history in the body)": (
            "/api/forecast/gas",
            {"chain_id": settings.chain_id, "horizon": 3, "fee_history": fee_history},
        ),
        "rl_action_http": ("/api/rl/action", STATE),
        "rl_action_batch_http (100 states)": ("/api/rl/action/batch", {"states": [STATE] * 100}),
    }
    out: dict[str, Any] = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            _wait_ready(client, server)
            for name, (path, body) in calls.items():
                out[name] = _time(_poster(client, path, json.dumps(body).encode()), iterations)
    finally:
        server.terminate()
        server.wait(10)
    return out


def _poster(client: httpx.Client, path: str, payload: bytes) -> Callable[[], None]:
    headers = {"content-type": "application/json"}

    def post() -> None:
        client.post(path, content=payload, headers=headers).raise_for_status()

    return post


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(client: httpx.Client, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError("the service exited during start-up")
        try:
            if client.get("/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the service did not become ready")


def run_bench(settings: MlSettings, iterations: int = 2000, train: bool = True) -> dict[str, Any]:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    results: dict[str, Any] = {}
    if train:
        t = time.perf_counter()
        summary = train_all(settings, TrainOptions(episodes=settings.ml_train_episodes))
        results["training_s"] = round(time.perf_counter() - t, 2)
        console.print(f"training on the shipped data: {results['training_s']} s")
    sizes = {p.name: p.stat().st_size for p in settings.models_dir.glob("*.pkl")}
    history = load_base_fee_csv(settings.base_fee_file).tail(settings.ml_fee_history_blocks)
    forecaster = MarketForecaster.load(settings.models_dir)
    registry = ModelRegistry(settings)
    registry.reload()
    state = RlStateIn.model_validate(STATE)
    latency = {
        "forecast_in_process (h=1..5)": _time(
            lambda: forecaster.predict(history, [1, 2, 3, 4, 5]), iterations
        ),
        "forecast_in_process (h=3)": _time(lambda: forecaster.predict(history, [3]), iterations),
        "rl_action_in_process": _time(lambda: decide(registry, state), iterations),
    }
    latency.update(_http(settings, history, max(iterations // 2, 200)))
    table = Table(title="latency (microseconds)")
    for col in ("what", "p50", "p99", "mean"):
        table.add_column(col, justify="right")
    for name, row in latency.items():
        table.add_row(name, str(row["p50_us"]), str(row["p99_us"]), str(row["mean_us"]))
    console.print(table)
    console.print(f"model files (bytes): {sizes}")
    if train:
        from titan_ml.training.console import print_summary

        print_summary(console, summary)
    results.update({"latency": latency, "model_file_bytes": sizes})
    metadata = settings.models_dir / "forecaster_metadata.json"
    if metadata.is_file():  # the held-out evaluation against the baselines, for the goals
        results["evaluation"] = json.loads(metadata.read_text()).get("evaluation")
    return results


__all__ = ["run_bench"]
