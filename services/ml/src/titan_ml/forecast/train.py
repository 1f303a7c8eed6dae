"""Fitting and evaluating the forecaster on one fee history, split in time, never shuffled.

The anchors are cut in order: the first 70 % train, the next 10 % choose the ensemble weight
and measure the residual quantiles, the last 20 % are the held-out span every number in the
metadata comes from. `max_horizon` anchors are dropped at each cut so no target crosses it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import xgboost as xgb
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.preprocessing import StandardScaler

from titan_ml.forecast.baselines import BASELINES, baseline
from titan_ml.forecast.features import FEATURE_NAMES, anchor_range, feature_matrix, targets
from titan_ml.forecast.history import FeeHistory, FloatArray
from titan_ml.forecast.model import QUANTILES, quantile_key

TRAIN_SHARE, VALID_SHARE = 0.7, 0.1
# features of a history at some anchors: `feature_matrix`, or an experiment's variant of it
Features: TypeAlias = Callable[[FeeHistory, npt.NDArray[np.int64]], FloatArray]
WEIGHT_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
XGB_PARAMS: dict[str, Any] = {
    "objective": "reg:absoluteerror",
    "tree_method": "hist",
    "max_depth": 4,
    "eta": 0.1,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 20,
    "nthread": 1,  # OpenMP spin-waits badly when the cores are shared
}
XGB_ROUNDS = 400
# Every horizon's GB model has the same stages and rate, so serving walks them in one call.
GB_STAGES = 60
GB_LEARNING_RATE = 0.05


@dataclass
class FitResult:
    xgb: dict[str, Any]  # {"horizons": [2, ...], "booster": multi-output Booster}
    gb: dict[int, Any]
    scaler: StandardScaler
    ensemble: dict[str, Any]
    evaluation: dict[str, Any]
    spans: dict[str, dict[str, int]]
    test_blocks: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    test_actual: dict[int, FloatArray] = field(default_factory=dict)
    test_model: dict[int, FloatArray] = field(default_factory=dict)
    test_last_value: FloatArray = field(default_factory=lambda: np.zeros(0))


def split_anchors(
    anchors: npt.NDArray[np.int64], max_horizon: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    n = len(anchors)
    t_end, v_end = int(n * TRAIN_SHARE), int(n * (TRAIN_SHARE + VALID_SHARE))
    train = anchors[: max(t_end - max_horizon, 0)]
    valid = anchors[t_end : max(v_end - max_horizon, t_end)]
    test = anchors[v_end:]
    if min(len(train), len(valid), len(test)) < 50:
        raise ValueError(f"too little fee history to train: {n} usable blocks")
    return train, valid, test


def _errors(actual: FloatArray, forecast: FloatArray) -> dict[str, float]:
    err = np.abs(actual - forecast)
    return {
        "mae": round(float(err.mean()) / 1e9, 6),  # gwei
        "mape": round(float((err / actual).mean()) * 100, 4),  # percent
    }


def fit_forecaster(
    history: FeeHistory,
    max_horizon: int,
    seed: int = 7,
    step: Callable[[str], None] | None = None,
    features: Features = feature_matrix,
) -> FitResult:
    step = step or (lambda _label: None)
    anchors = anchor_range(history, max_horizon)
    train, valid, test = split_anchors(anchors, max_horizon)
    scaler = StandardScaler().fit(features(history, train))
    x_tr, x_va, x_te = (scaler.transform(features(history, s)) for s in (train, valid, test))
    horizons = list(range(2, max_horizon + 1))
    gb_models: dict[int, Any] = {}
    weights: dict[str, float] = {}
    residuals: dict[str, dict[str, float]] = {}
    result_model: dict[int, FloatArray] = {}
    b = history.base_fee
    y_tr = np.column_stack([targets(history, train, h) for h in horizons])
    y_va = np.column_stack([targets(history, valid, h) for h in horizons])
    # One booster for every horizon (one output per horizon): one inplace_predict serves all.
    booster = xgb.train(
        {**XGB_PARAMS, "seed": seed},
        xgb.DMatrix(x_tr, y_tr),
        XGB_ROUNDS,
        evals=[(xgb.DMatrix(x_va, y_va), "valid")],
        early_stopping_rounds=40,
        verbose_eval=False,
    )
    booster = booster[: booster.best_iteration + 1]
    step("xgboost, all horizons")
    xgb_va = booster.inplace_predict(x_va).reshape(len(valid), -1)
    xgb_te = booster.inplace_predict(x_te).reshape(len(test), -1)
    for k, h in enumerate(horizons):
        gb = GradientBoostingRegressor(
            loss="huber",
            n_estimators=GB_STAGES,
            max_depth=3,
            learning_rate=GB_LEARNING_RATE,
            subsample=0.5,
            max_features=0.5,
            random_state=seed,
        ).fit(x_tr, y_tr[:, k])
        step(f"gradient boosting h={h}")
        p_xgb, p_gb = xgb_va[:, k], gb.predict(x_va)
        w = min(
            WEIGHT_GRID, key=lambda w: float(np.abs(w * p_xgb + (1 - w) * p_gb - y_va[:, k]).mean())
        )
        resid = y_va[:, k] - (w * p_xgb + (1 - w) * p_gb)
        residuals[str(h)] = {quantile_key(q): float(np.quantile(resid, q)) for q in QUANTILES}
        gb_models[h], weights[str(h)] = gb, w
        pred = w * xgb_te[:, k] + (1 - w) * gb.predict(x_te)
        result_model[h] = b[test + 1] * np.exp(pred)
    xgb_models = {"horizons": horizons, "booster": booster}
    result_model[1] = b[test + 1]
    evaluation = evaluate(history, test, result_model, max_horizon)
    residuals["1"] = {quantile_key(q): 0.0 for q in QUANTILES}
    weights["1"] = 1.0
    spans = {
        name: {
            "first_block": history.oldest_block + int(s[0]),
            "last_block": history.oldest_block + int(s[-1]),
            "anchors": len(s),
        }
        for name, s in (("train", train), ("validation", valid), ("test", test))
    }
    return FitResult(
        xgb_models,
        gb_models,
        scaler,
        {"xgb_weight": weights, "residual_quantiles": residuals},
        evaluation,
        spans,
        history.oldest_block + test,
        {h: b[test + h] for h in range(1, max_horizon + 1)},
        result_model,
        b[test],
    )


def evaluate(
    history: FeeHistory,
    test: npt.NDArray[np.int64],
    model: dict[int, FloatArray],
    max_horizon: int,
) -> dict[str, Any]:
    """MAE (gwei) and MAPE (%) per horizon for the model and each baseline on the test span."""
    b = history.base_fee
    base = {name: baseline(history, test, name) for name in BASELINES}
    horizons: dict[str, Any] = {}
    for h in range(1, max_horizon + 1):
        actual = b[test + h]
        row: dict[str, Any] = {"model": _errors(actual, model[h])}
        row.update({name: _errors(actual, f) for name, f in base.items()})
        lv = row["last_value"]["mae"]
        row["model_vs_last_value_mae_reduction_pct"] = (
            round(100 * (1 - row["model"]["mae"] / lv), 2) if lv else 0.0
        )
        ev = row["eip1559"]["mae"]
        row["model_vs_eip1559_mae_reduction_pct"] = (
            round(100 * (1 - row["model"]["mae"] / ev), 2) if ev else 0.0
        )
        horizons[str(h)] = row
    return {
        "units": {"mae": "gwei", "mape": "percent"},
        "horizons": horizons,
        "test_anchors": len(test),
    }


FEATURES = FEATURE_NAMES
