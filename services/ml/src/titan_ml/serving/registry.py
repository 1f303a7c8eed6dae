"""The models the service answers with, loaded once, swapped whole after a retraining.

A missing, corrupt or mismatched file is not a crash: the registry keeps `None` with a message
naming the file, forecasts fall back to the best baseline and `/ready` says why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from titan_common.logging import get_logger
from titan_ml.forecast.model import MarketForecaster, ModelLoadError
from titan_ml.rl.agent import QLearningAgent
from titan_ml.settings import MlSettings
from titan_ml.training.pipeline import Q_TABLE_FILE, RL_METRICS_FILE

_log = get_logger("ml.models")


@dataclass(frozen=True)
class Loaded:
    forecaster: MarketForecaster | None
    forecaster_message: str
    agent: QLearningAgent | None
    agent_message: str
    rl_metrics: dict[str, Any] | None
    # The policy's answer depends only on the state's buckets (and, off the agent's table, on
    # whether the gross profit clears the gas): at most a few hundred answers per agent, each
    # made once (`serving.actions`) and dropped with the agent when a retraining swaps it.
    answers: dict[Any, Any] = field(default_factory=dict, compare=False)


class ModelRegistry:
    def __init__(self, settings: MlSettings) -> None:
        self.settings = settings
        self.current = Loaded(None, "not loaded yet", None, "not loaded yet", None)

    @property
    def enabled(self) -> bool:
        return self.settings.enable_ml_models

    def reload(self) -> Loaded:
        if not self.enabled:
            msg = "disabled by ENABLE_ML_MODELS=false: serving baselines"
            self.current = Loaded(None, msg, None, msg, None)
            _log.info("ml.models.disabled")
            return self.current
        forecaster, f_msg = self._load_forecaster()
        agent, a_msg, metrics = self._load_agent()
        self.current = Loaded(forecaster, f_msg, agent, a_msg, metrics)
        return self.current

    def _load_forecaster(self) -> tuple[MarketForecaster | None, str]:
        try:
            forecaster = MarketForecaster.load(self.settings.models_dir)
        except ModelLoadError as exc:
            _log.warning("ml.forecaster.load_failed", reason=str(exc))
            return None, f"{exc}; serving the EIP-1559 baseline (run `titan-ml train`)"
        _log.info("ml.forecaster.loaded", models_dir=str(self.settings.models_dir))
        return forecaster, "ok"

    def _load_agent(self) -> tuple[QLearningAgent | None, str, dict[str, Any] | None]:
        path = self.settings.ml_data_dir / Q_TABLE_FILE
        if not path.is_file():
            msg = f"missing {path}; serving the threshold rule (run `titan-ml train`)"
            _log.warning("ml.agent.load_failed", reason=msg)
            return None, msg, None
        try:
            agent = QLearningAgent.load(path)
        except (ValueError, KeyError, TypeError, IndexError, OSError) as exc:
            msg = f"unreadable {path}: {exc}; serving the threshold rule"
            _log.warning("ml.agent.load_failed", reason=msg)
            return None, msg, None
        metrics = None
        metrics_path = self.settings.ml_data_dir / RL_METRICS_FILE
        try:
            metrics = json.loads(metrics_path.read_text())
        except (OSError, ValueError):
            metrics = None
        _log.info("ml.agent.loaded", path=str(path))
        return agent, "ok", metrics
