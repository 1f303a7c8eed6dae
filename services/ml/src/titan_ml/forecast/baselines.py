"""The honest baselines every forecast is measured against, and served when no model is."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from titan_ml.forecast.history import FeeHistory, FloatArray

MOVING_AVERAGE_SPAN = 8
BASELINES = ("last_value", "eip1559", "moving_average")
# The baseline served without a model: the EIP-1559 rule applied to the last block, held.
BEST_BASELINE = "eip1559"


def baseline(history: FeeHistory, anchors: npt.NDArray[np.int64], name: str) -> FloatArray:
    """Forecast of every horizon at each anchor t (the same for all horizons)."""
    b = history.base_fee
    a = np.asarray(anchors, dtype=np.int64)
    if name == "last_value":
        return b[a]
    if name == "eip1559":
        return b[a + 1]
    if name == "moving_average":
        cs = np.concatenate(([0.0], np.cumsum(b)))
        span = np.minimum(a + 1, MOVING_AVERAGE_SPAN)
        return (cs[a + 1] - cs[a + 1 - span]) / span
    raise ValueError(f"unknown baseline {name!r}")


def empirical_log_quantiles(
    history: FeeHistory, horizon: int, probs: tuple[float, ...]
) -> list[float]:
    """Quantiles of log(b[i + h] / b[i + 1]) within the history itself: the baseline's interval."""
    steps = horizon - 1
    if steps == 0 or len(history.base_fee) <= steps + 1 or history.base_fee.min() <= 0:
        return [0.0 for _ in probs]
    lb = np.log(history.base_fee)
    changes = lb[1 + steps :] - lb[1 : len(lb) - steps]
    return [float(q) for q in np.quantile(changes, probs)]
