"""`MarketForecaster`: the trained ensemble, loaded once, answering in microseconds.

Per horizon h >= 2 an XGBoost booster and a scikit-learn gradient boosting model predict
log(base fee of block t + h / base fee of block t + 1) from scaled features; their weighted mean,
times the next block's base fee, is the point forecast, and residual quantiles measured on
held-back data give the interval. Horizon 1 needs no model: EIP-1559 fixes it exactly.
"""

from __future__ import annotations

import ctypes
import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from titan_ml.forecast.baselines import BEST_BASELINE, empirical_log_quantiles
from titan_ml.forecast.features import FEATURE_NAMES, WINDOW, feature_row
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
        self, xgb: dict[str, Any], gb: dict[int, Any], scaler: Any, metadata: dict[str, Any]
    ) -> None:
        self.xgb, self.gb, self.scaler, self.metadata = xgb, gb, scaler, metadata
        self.max_horizon = int(metadata["max_horizon"])
        self.horizons: list[int] = [int(h) for h in xgb["horizons"]]
        self.booster = xgb["booster"]
        self.booster.set_param({"nthread": 1})
        self._xgb = _BoosterRow(self.booster, len(scaler.mean_), len(self.horizons))
        ens = metadata["ensemble"]
        self.weights = np.array([float(ens["xgb_weight"][str(h)]) for h in self.horizons])
        self.residuals = {int(h): v for h, v in ens["residual_quantiles"].items()}
        self._mean = np.asarray(scaler.mean_, dtype=np.float64)
        self._scale = np.asarray(scaler.scale_, dtype=np.float64)
        self._gb = _StackedGradientBoosting([gb[h] for h in self.horizons])

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
            return cls(xgb, gb, scaler, metadata)
        except (KeyError, AttributeError, TypeError, ValueError) as exc:
            raise ModelLoadError(f"model files in {models_dir} do not fit together: {exc}") from exc

    def predict(self, history: FeeHistory, horizons: list[int]) -> list[HorizonForecast]:
        if history.blocks < WINDOW:
            return baseline_forecast(history, horizons, reason_model="baseline_eip1559")
        x = (feature_row(history) - self._mean) / self._scale
        # Every horizon in two calls: the multi-output booster and the stacked GB stages.
        log_ratio = self.weights * self._xgb.predict(x)
        log_ratio += (1.0 - self.weights) * self._gb.predict(x)
        by_horizon = dict(zip(self.horizons, log_ratio.tolist(), strict=True))
        nxt = float(history.base_fee[-1])
        out = []
        for h in horizons:
            if h == 1:
                quantiles = {quantile_key(q): _wei(nxt) for q in QUANTILES}
                out.append(
                    HorizonForecast(1, history.last_block + 1, _wei(nxt), quantiles, "eip1559")
                )
                continue
            point = nxt * math.exp(by_horizon[h])
            quantiles = {
                k: _wei(nxt * math.exp(by_horizon[h] + off)) for k, off in self.residuals[h].items()
            }
            out.append(
                HorizonForecast(h, history.last_block + h, _wei(point), quantiles, "ensemble")
            )
        return out


class _BoosterRow:
    """The booster's prediction for one row through `XGBoosterPredictFromDense`, the C entry
    point `inplace_predict` calls, with its arguments made once: on one row the Python wrapper's
    per-call work (its checks, two JSON documents, a ctypes type) cost more than the 272 trees
    (inplace_predict 166 us, this 76 us). Checked against `inplace_predict` at load; falls back
    to it if the entry point is missing or answers differently."""

    def __init__(self, booster: Any, features: int, outputs: int) -> None:
        self.booster, self.outputs = booster, outputs
        self._lock = threading.Lock()  # one input buffer, and XGBoost's output per thread
        self._row = np.zeros((1, features), dtype=np.float32)  # its address is in _data
        self._call: Any = None
        try:
            from xgboost.core import _LIB

            self._data = json.dumps(
                {
                    "data": (self._row.ctypes.data, False),
                    "shape": self._row.shape,
                    "strides": None,
                    "typestr": "<f4",
                    "version": 3,
                }
            ).encode()
            self._args = json.dumps(
                {
                    "type": 0,  # the value, not the margin or leaves
                    "training": False,
                    "iteration_begin": 0,
                    "iteration_end": 0,
                    "strict_shape": False,
                    "missing": float("nan"),
                    "cache_id": 0,
                }
            ).encode()
            # XGBoost's bst_ulong is uint64_t (xgboost._typing.c_bst_ulong)
            self._shape = ctypes.POINTER(ctypes.c_uint64)()
            self._dims = ctypes.c_uint64()
            self._out = ctypes.POINTER(ctypes.c_float)()
            self._call = _LIB.XGBoosterPredictFromDense
            probe = np.linspace(-1.0, 1.0, features).reshape(1, -1)
            expected = booster.inplace_predict(probe.astype(np.float32), validate_features=False)
            if not np.array_equal(self._predict_fast(probe), np.ravel(expected)):
                self._call = None
        except (ImportError, AttributeError, TypeError, ValueError, OSError):
            self._call = None

    def _predict_fast(self, x: Any) -> Any:
        with self._lock:
            self._row[0] = x[0]
            status = self._call(
                self.booster.handle,
                self._data,
                self._args,
                None,
                ctypes.byref(self._shape),
                ctypes.byref(self._dims),
                ctypes.byref(self._out),
            )
            if status != 0:
                raise ValueError("XGBoosterPredictFromDense failed")
            return np.ctypeslib.as_array(self._out, shape=(self.outputs,)).astype(np.float64)

    def predict(self, x: Any) -> Any:
        """Every output for the one row `x` (shape (1, features))."""
        if self._call is None:
            return self.booster.inplace_predict(x, validate_features=False)[0]
        return self._predict_fast(x)


class _StackedGradientBoosting:
    """Several single-output scikit-learn GradientBoostingRegressors with equal stages and rate,
    walked in one call of scikit-learn's own `predict_stages` (one column per model), without
    the per-call input checks of `predict`, which cost ten times the tree walk on one row.
    Falls back to `predict` per model if that private entry point ever changes."""

    def __init__(self, models: list[Any]) -> None:
        self.models = models
        zero = np.zeros((1, models[0].n_features_in_))
        self._init = np.array([float(m._raw_predict_init(zero)[0, 0]) for m in models])
        self._rate = float(models[0].learning_rate)
        self._fast = None
        try:
            from sklearn.ensemble._gradient_boosting import predict_stages

            stages = np.empty((models[0].n_estimators_, len(models)), dtype=object)
            for k, m in enumerate(models):
                if m.n_estimators_ != stages.shape[0] or float(m.learning_rate) != self._rate:
                    raise ValueError("models differ in stages or rate")
                stages[:, k] = m.estimators_[:, 0]
            self._stages = stages
            self._fast = predict_stages
            self._check = self._predict_fast(zero.astype(np.float32))
        except (ImportError, AttributeError, TypeError, ValueError):
            self._fast = None
        if self._fast is not None and not np.allclose(self._check, self._predict_slow(zero)):
            self._fast = None

    def _predict_fast(self, x32: Any) -> Any:
        out = self._init.reshape(1, -1).copy()
        assert self._fast is not None
        self._fast(self._stages, x32, self._rate, out)
        return out[0]

    def _predict_slow(self, x: Any) -> Any:
        return np.array([float(m.predict(x)[0]) for m in self.models])

    def predict(self, x: Any) -> Any:
        if self._fast is None:
            return self._predict_slow(x)
        return self._predict_fast(x.astype(np.float32))


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
