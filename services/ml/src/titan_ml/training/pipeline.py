"""One training run: fee history and pool replay in, every model file and metric out.

Files written under `data_dir`: models/forecaster_{xgb,gb,scaler}.pkl,
models/forecaster_metadata.json, models/forecast_vs_actual.png, q_table.json,
rl_metrics.json, training_data.csv. Each file is written to a temporary name and renamed, so
a running service never loads half a model.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata as pkg_metadata
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from titan_ml.forecast.features import FEATURE_NAMES, anchor_range, feature_matrix, targets
from titan_ml.forecast.history import FeeHistory, load_base_fee_csv, synthetic
from titan_ml.forecast.model import GB_FILE, METADATA_FILE, SCALER_FILE, XGB_FILE
from titan_ml.forecast.train import FitResult, fit_forecaster
from titan_ml.rl.env import ArbitrageEnv
from titan_ml.rl.landing import LandingModel, fit_landing, load_paper_trades
from titan_ml.rl.market import find_gaps, load_events, opportunity
from titan_ml.rl.opportunity import Opportunity
from titan_ml.rl.replay import load_replay
from titan_ml.rl.train import evaluate_policies, split, train_agent
from titan_ml.settings import MlSettings
from titan_ml.training.plot import plot_forecasts

Q_TABLE_FILE = "q_table.json"
RL_METRICS_FILE = "rl_metrics.json"
TRAINING_DATA_FILE = "training_data.csv"
PLOT_FILE = "forecast_vs_actual.png"
EVAL_EPISODES = 300
EVAL_STEPS = 30_000  # opportunities of all held-out episodes of one market, at most
POOL_REPLAY, SCANNER_REPLAY = "pool_replay", "scanner_replay"
MARKET_SOURCES = {
    POOL_REPLAY: "USDC/WETH 0.05 % and 0.30 % swaps (real), base fees of the may_2023 series "
    "aligned by block offset",
    SCANNER_REPLAY: "the scanner's verified opportunities replayed on their chain (titan replay)",
}


@dataclass(frozen=True)
class TrainOptions:
    samples: int | None = None  # the last N blocks of fee history; None: all
    episodes: int = 400
    synthetic: bool = False
    history_file: Path | None = None  # default: the shipped base-fee file


class Progress:
    """What a run reports as it goes: phases with a number of steps."""

    def phase(self, name: str, total: int) -> None: ...
    def advance(self, label: str = "") -> None: ...


def _versions() -> dict[str, str]:
    names = ("xgboost-cpu", "scikit-learn", "numpy", "joblib")
    out = {"python": platform.python_version()}
    for n in names:
        try:
            out[n] = pkg_metadata.version(n)
        except pkg_metadata.PackageNotFoundError:
            out[n] = "unknown"
    return out


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    tmp.replace(path)


def load_history(settings: MlSettings, options: TrainOptions) -> tuple[FeeHistory, str]:
    if options.synthetic:
        return synthetic(options.samples or 14_000, seed=settings.ml_seed), "synthetic"
    path = options.history_file or settings.base_fee_file
    history = load_base_fee_csv(path)
    if options.samples:
        history = history.tail(options.samples)
    return history, path.name


def train_all(
    settings: MlSettings, options: TrainOptions, progress: Progress | None = None
) -> dict[str, Any]:
    """Train both models, write every file, return a summary."""
    progress = progress or Progress()
    started = time.perf_counter()
    data_dir, models_dir = settings.ml_data_dir, settings.models_dir
    models_dir.mkdir(parents=True, exist_ok=True)
    history, source = load_history(settings, options)
    progress.phase("forecaster", settings.ml_max_horizon)
    fit = fit_forecaster(
        history,
        settings.ml_max_horizon,
        settings.ml_seed,
        step=lambda label: progress.advance(label),
    )
    forecast_seconds = time.perf_counter() - started
    _write_training_data(data_dir / TRAINING_DATA_FILE, history, settings.ml_max_horizon)
    metadata = _metadata(settings, options, history, source, fit, forecast_seconds)
    _atomic_write(models_dir / XGB_FILE, lambda p: joblib.dump(fit.xgb, p))
    _atomic_write(models_dir / GB_FILE, lambda p: joblib.dump(fit.gb, p))
    _atomic_write(models_dir / SCALER_FILE, lambda p: joblib.dump(fit.scaler, p))
    _atomic_write(models_dir / PLOT_FILE, lambda p: plot_forecasts(fit, p))
    rl = _train_rl(settings, options, history, progress)
    metadata["training_seconds"] = round(time.perf_counter() - started, 2)
    _atomic_write(
        models_dir / METADATA_FILE, lambda p: p.write_text(json.dumps(metadata, indent=1))
    )
    return {"forecaster": metadata, "rl": rl, "seconds": metadata["training_seconds"]}


def _metadata(
    settings: MlSettings,
    options: TrainOptions,
    history: FeeHistory,
    source: str,
    fit: FitResult,
    seconds: float,
) -> dict[str, Any]:
    return {
        "model": "xgboost+gradient_boosting",
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "synthetic": options.synthetic,
        "source": source,
        "data_span": {
            "first_block": history.oldest_block,
            "last_block": history.last_block,
            "blocks": history.blocks,
        },
        "splits": fit.spans,
        "max_horizon": settings.ml_max_horizon,
        "target": "log(base fee at t+h / base fee at t+1); horizon 1 is the EIP-1559 rule",
        "features": list(FEATURE_NAMES),
        "ensemble": fit.ensemble,
        "evaluation": fit.evaluation,
        "versions": _versions(),
        "forecaster_seconds": round(seconds, 2),
        "plot": PLOT_FILE,
    }


def _write_training_data(path: Path, history: FeeHistory, max_horizon: int) -> None:
    anchors = anchor_range(history, max_horizon)
    x = feature_matrix(history, anchors)
    ys = [targets(history, anchors, h) for h in range(2, max_horizon + 1)]
    blocks = history.oldest_block + anchors
    header = [
        "block_number",
        "base_fee_wei",
        "next_base_fee_wei",
        *FEATURE_NAMES,
        *(f"target_log_ratio_h{h}" for h in range(2, max_horizon + 1)),
    ]
    table = np.column_stack(
        [blocks, history.base_fee[anchors], history.base_fee[anchors + 1], x, *ys]
    )

    def write(p: Path) -> None:
        np.savetxt(p, table, delimiter=",", header=",".join(header), comments="", fmt="%.10g")

    _atomic_write(path, write)


def rl_markets(settings: MlSettings, history: FeeHistory) -> dict[str, list[Opportunity]]:
    """The agent's markets: the real pool replay (when the shared data is there) and the
    scanner's opportunities replayed on their chain (when `titan replay` wrote them)."""
    markets: dict[str, list[Opportunity]] = {}
    if all(p.is_file() for p in settings.pool_files):
        events = load_events(settings.pool_files)
        first = events[0].block_number
        # The pool day has no base fees: the base-fee series, aligned block by block from its start.
        fees = history.base_fee
        markets[POOL_REPLAY] = [
            opportunity(g, float(fees[(g.block_number - first) % len(fees)]))
            for g in find_gaps(events)
        ]
    newest = settings.ml_rl_replay_max
    if newest and settings.rl_replay_file.is_file():
        markets[SCANNER_REPLAY] = load_replay(settings.rl_replay_file)[-newest:]
    return markets


def market_landing(settings: MlSettings, market: str) -> tuple[LandingModel, dict[str, Any]]:
    """The landing model of a market, and what rl_metrics says of it. The paper trades of the
    scanner's chain are fitted for its replay when there are enough (`measured`); the fit is
    trained on with `ML_RL_LANDING=paper_trades`, else the assumed model is."""
    assumed = LandingModel()
    said: dict[str, Any] = {"source": "assumed", "model": asdict(assumed)}
    if market != SCANNER_REPLAY or not settings.paper_trades_file.is_file():
        return assumed, said
    trades = load_paper_trades(settings.paper_trades_file)
    measured = fit_landing(trades)
    if measured is None:
        said["measured"] = f"{len(trades)} settled paper trades: too few, or at too few bids"
        return assumed, said
    said["measured"] = {
        "trades": measured.trades,
        "trades_by_bid": measured.trades_by_bid,
        "first_share_by_bid": {k: round(v, 4) for k, v in measured.first_share_by_bid.items()},
        "model": {k: round(v, 4) + 0.0 for k, v in asdict(measured.model).items()},  # no -0.0
    }
    if settings.ml_rl_landing != "paper_trades":
        return assumed, said
    return measured.model, {"source": "paper_trades", "measured": said["measured"]}


def eval_episodes(opportunities: int) -> int:
    """Held-out episodes for a market: `EVAL_EPISODES`, fewer for a long one (the same steps)."""
    return max(20, min(EVAL_EPISODES, EVAL_STEPS // max(opportunities, 1)))


def _train_rl(
    settings: MlSettings, options: TrainOptions, history: FeeHistory, progress: Progress
) -> dict[str, Any]:
    splits, left_out = {}, {}
    for name, opportunities in rl_markets(settings, history).items():
        try:
            splits[name] = split(opportunities)
        except ValueError as exc:
            left_out[name] = str(exc)
    if not splits:
        # A container without the shared data can still retrain the forecaster from collected
        # history; the agent keeps its last table (or the service its threshold rule).
        missing = [str(p) for p in settings.pool_files if not p.is_file()]
        reason = f"pool replay files not found: {', '.join(missing)}" if missing else ""
        return {"skipped": "; ".join([reason, *left_out.values()]).strip("; ")}
    landings = {name: market_landing(settings, name) for name in splits}
    progress.phase("q-learning", options.episodes)
    agent, rewards = train_agent(
        [ArbitrageEnv(train, landings[name][0]) for name, (train, _) in splits.items()],
        options.episodes,
        settings.ml_seed,
        step=progress.advance,
    )
    markets = {}
    for name, (train_ops, test_ops) in splits.items():
        landing, landing_metrics = landings[name]
        markets[name] = {
            "source": MARKET_SOURCES[name],
            "landing": landing_metrics,
            "opportunities": {
                "total": len(train_ops) + len(test_ops),
                "train": len(train_ops),
                "held_out": len(test_ops),
                "train_blocks": [train_ops[0].block_number, train_ops[-1].block_number],
                "held_out_blocks": [test_ops[0].block_number, test_ops[-1].block_number],
            },
            "evaluation": evaluate_policies(
                ArbitrageEnv(test_ops, landing),
                agent,
                eval_episodes(len(test_ops)),
                settings.ml_seed + 1,
            ),
        }
    metrics = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "episodes": options.episodes,
        "training_reward_last_50_mean_eth": round(float(np.mean(rewards[-50:])), 6),
        "markets": markets,
        "left_out": left_out,
    }
    _atomic_write(settings.ml_data_dir / Q_TABLE_FILE, agent.save)
    _atomic_write(
        settings.ml_data_dir / RL_METRICS_FILE,
        lambda p: p.write_text(json.dumps(metrics, indent=1)),
    )
    return metrics
