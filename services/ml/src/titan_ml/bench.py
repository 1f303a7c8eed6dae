"""`titan-ml bench`: forecast and RL-action latency in process and over HTTP (p50/p99), and
training time on the shipped data. Prints a table and the forecaster's evaluation."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import uvicorn

from titan_ml.api.schemas import RlStateIn
from titan_ml.app import create_app
from titan_ml.forecast.collect import FeeHistorySource
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


class _StaticSource(FeeHistorySource):
    """The same history every time: the bench measures the service, not a node."""

    def __init__(self, history: FeeHistory) -> None:
        self._history = history

    async def latest(self) -> FeeHistory:
        return self._history

    async def aclose(self) -> None:
        return None


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


async def _http(settings: MlSettings, history: FeeHistory, iterations: int) -> dict[str, Any]:
    app = create_app(settings, fee_source=_StaticSource(history))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        calls = {
            "forecast_http (h=1..5)": ("/api/forecast/gas", {"chain_id": settings.chain_id}),
            "forecast_http (h=1)": (
                "/api/forecast/gas",
                {"chain_id": settings.chain_id, "horizon": 1},
            ),
            "rl_action_http": ("/api/rl/action", STATE),
            "rl_action_batch_http (100 states)": (
                "/api/rl/action/batch",
                {"states": [STATE] * 100},
            ),
        }
        for name, (path, body) in calls.items():
            for _ in range(50):
                (await client.post(path, json=body)).raise_for_status()
            samples = []
            for _ in range(iterations):
                t = time.perf_counter()
                r = await client.post(path, json=body)
                samples.append(time.perf_counter() - t)
                assert r.status_code == 200
            out[name] = _percentiles(samples)
    server.should_exit = True
    await task
    return out


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
    latency.update(asyncio.run(_http(settings, history, max(iterations // 4, 200))))
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
    return results


__all__ = ["run_bench"]
