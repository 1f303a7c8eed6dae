"""Features at anchor t never see a base fee after t + 1 or a gas used ratio after t."""

from __future__ import annotations

import numpy as np

from titan_ml.forecast.features import (
    FEATURE_NAMES,
    WINDOW,
    anchor_range,
    feature_matrix,
    feature_row,
    targets,
)
from titan_ml.forecast.history import FeeHistory, synthetic


def test_no_feature_sees_the_future() -> None:
    history = synthetic(300, seed=3)
    t = 150
    before = feature_matrix(history, np.array([t]))
    fees = history.base_fee.copy()
    fees[t + 2 :] *= 3.0  # rewrite the future
    ratios = history.gas_used_ratio.copy()
    ratios[t + 1 :] = 0.0
    future = FeeHistory(history.oldest_block, fees, ratios)
    assert np.allclose(before, feature_matrix(future, np.array([t])))
    assert targets(future, np.array([t]), 3)[0] != targets(history, np.array([t]), 3)[0]


def test_shapes_and_ranges() -> None:
    history = synthetic(400, seed=4)
    anchors = anchor_range(history, 5)
    assert anchors[0] == WINDOW - 1
    assert anchors[-1] + 5 == history.blocks
    x = feature_matrix(history, anchors)
    assert x.shape == (len(anchors), len(FEATURE_NAMES))
    assert np.isfinite(x).all()


def test_level_free_features_scale_invariant() -> None:
    history = synthetic(200, seed=5)
    scaled = FeeHistory(history.oldest_block, history.base_fee * 10, history.gas_used_ratio)
    a = np.array([100, 150])
    assert np.allclose(feature_matrix(history, a), feature_matrix(scaled, a))


def test_serving_row_equals_the_training_matrix() -> None:
    history = synthetic(600, seed=6)
    for t in (WINDOW - 1, 100, 333, history.blocks - 1):
        part = FeeHistory(
            history.oldest_block, history.base_fee[: t + 2], history.gas_used_ratio[: t + 1]
        )
        assert np.allclose(
            feature_row(part), feature_matrix(part, np.array([t])), rtol=0, atol=1e-9
        )
