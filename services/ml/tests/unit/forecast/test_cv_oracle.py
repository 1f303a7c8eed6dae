"""The oracle of scripts/forecast_cv.py: the true next gas step, blurred to the correlation asked."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np

from titan_ml.forecast.features import FEATURE_NAMES, anchor_range, feature_matrix
from titan_ml.forecast.history import synthetic

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "forecast_cv.py"


def _forecast_cv() -> ModuleType:
    spec = importlib.util.spec_from_file_location("forecast_cv", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_oracle_column_is_the_next_step_at_the_correlation_asked() -> None:
    history = synthetic(6000, seed=5)
    anchors = anchor_range(history, 5)
    lb = np.log(history.base_fee)
    truth = lb[anchors + 2] - lb[anchors + 1]
    oracle = _forecast_cv().next_gas_use_oracle

    exact = oracle(1.0, seed=7)(history, anchors)
    assert exact.shape == (len(anchors), len(FEATURE_NAMES) + 1)
    assert np.array_equal(exact[:, :-1], feature_matrix(history, anchors))
    assert np.allclose(exact[:, -1], truth)

    blurred = oracle(0.6, seed=7)(history, anchors)[:, -1]
    assert abs(np.corrcoef(blurred, truth)[0, 1] - 0.6) < 0.05
    # a block's value does not depend on which anchors were asked for (train, test, ...)
    part = oracle(0.6, seed=7)(history, anchors[100:200])[:, -1]
    assert np.array_equal(part, blurred[100:200])
