"""`MarketForecaster`: the trained ensemble, loaded once, answering in microseconds.

Per horizon h >= 2 an XGBoost booster and a scikit-learn gradient boosting model predict
log(base fee of block t + h / base fee of block t + 1) from scaled features; their weighted mean,
times the next block's base fee, is the point forecast, and residual quantiles measured on
held-back data give the interval. Horizon 1 needs no model: EIP-1559 fixes it exactly.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from titan_ml.forecast.baselines import BEST_BASELINE, empirical_log_quantiles
from titan_ml.forecast.features import FEATURE_NAMES, WINDOW, feature_matrix
from titan_ml.forecast.history import FeeHistory

XGB_FILE = "forecaster_xgb.pkl"
GB_FILE = "forecaster_gb.pkl"
SCALER_FILE = "forecaster_scaler.pkl"
METADATA_FILE = "forecaster_metadata.json"
QUANTILES = (0.1, 0.5, 0.9)


class ModelLoadError(Exception):
    """A model file is missing, unreadable or does not match the code; the message says which."""


@dataclass(frozen=True)
class HorizonForecast:
    horizon: int
    block_number: int
    base_fee_wei: int
    quantiles: dict[str, int]
    model: str


def quantile_key(q: float) -> str:
    return f"p{round(q * 100)}"


def _wei(value: float) -> int:
    return max(0, math.ceil(value))


class MarketForecaster:
    """The ensemble of one training run; `load` it once, `predict` per request."""

    def __init__(
        self, xgb: dict[int, Any], gb: dict[int, Any], scaler: Any, metadata: dict[str, Any]
    ) -> None:
        self.xgb, self.gb, self.scaler, self.metadata = xgb, gb, scaler, metadata
        self.max_horizon = int(metadata["max_horizon"])
        ens = metadata["ensemble"]
        self.weights = {int(h): float(w) for h, w in ens["xgb_weight"].items()}
        self.residuals = {int(h): v for h, v in ens["residual_quantiles"].items()}
        self._mean = np.asarray(scaler.mean_, dtype=np.float64)
        self._scale = np.asarray(scaler.scale_, dtype=np.float64)

    @classmethod
    def load(cls, models_dir: Path) -> MarketForecaster:
        paths = [models_dir / n for n in (XGB_FILE, GB_FILE, SCALER_FILE, METADATA_FILE)]
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise ModelLoadError(f"missing model files in {models_dir}: {', '.join(missing)}")
        loaded: list[Any] = []
        for path in paths:
            try:
                loaded.append(
                    json.loads(path.read_text()) if path.suffix == ".json" else joblib.load(path)
                )
            except Exception as exc:  # unpickling raises anything on a corrupt file
                raise ModelLoadError(
                    f"unreadable model file {path}: {type(exc).__name__}: {exc}"
                ) from exc
        xgb, gb, scaler, metadata = loaded
        if tuple(metadata.get("features", ())) != FEATURE_NAMES:
            raise ModelLoadError("model features differ from this code's: retrain")
        try:
            for booster in xgb.values():
                booster.set_param({"nthread": 1})
            return cls(xgb, gb, scaler, metadata)
        except (KeyError, AttributeError, TypeError, ValueError) as exc:
            raise ModelLoadError(f"model files in {models_dir} do not fit together: {exc}") from exc

    def predict(self, history: FeeHistory, horizons: list[int]) -> list[HorizonForecast]:
        if history.blocks < WINDOW:
            return baseline_forecast(history, horizons, reason_model="baseline_eip1559")
        anchor = np.array([history.blocks - 1], dtype=np.int64)
        x = (feature_matrix(history, anchor) - self._mean) / self._scale
        x32 = x.astype(np.float32)
        nxt = float(history.base_fee[-1])
        out = []
        for h in horizons:
            if h == 1:
                quantiles = {quantile_key(q): _wei(nxt) for q in QUANTILES}
                out.append(
                    HorizonForecast(1, history.last_block + 1, _wei(nxt), quantiles, "eip1559")
                )
                continue
            w = self.weights[h]
            log_ratio = 0.0
            if w > 0.0:
                log_ratio += w * float(self.xgb[h].inplace_predict(x, validate_features=False)[0])
            if w < 1.0:
                log_ratio += (1.0 - w) * _gb_predict(self.gb[h], x, x32)
            point = nxt * math.exp(log_ratio)
            quantiles = {
                k: _wei(nxt * math.exp(log_ratio + off)) for k, off in self.residuals[h].items()
            }
            out.append(
                HorizonForecast(h, history.last_block + h, _wei(point), quantiles, "ensemble")
            )
        return out


def _gb_predict(model: Any, x: Any, x32: Any) -> float:
    """scikit-learn's tree walk without its per-call input checks (a tenth of the time); the
    public `predict` if the private entry point changes."""
    try:
        return float(model._raw_predict(x32)[0, 0])
    except (AttributeError, TypeError, ValueError):
        return float(model.predict(x)[0])


def baseline_forecast(
    history: FeeHistory, horizons: list[int], reason_model: str = "baseline_eip1559"
) -> list[HorizonForecast]:
    """The EIP-1559 next base fee held for every horizon, with the history's own spread."""
    assert BEST_BASELINE == "eip1559"
    nxt = float(history.base_fee[-1])
    out = []
    for h in horizons:
        offs = empirical_log_quantiles(history, h, QUANTILES)
        quantiles = {
            quantile_key(q): _wei(nxt * math.exp(o)) for q, o in zip(QUANTILES, offs, strict=True)
        }
        out.append(HorizonForecast(h, history.last_block + h, _wei(nxt), quantiles, reason_model))
    return out
