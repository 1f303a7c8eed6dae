"""Features of a fee history at an anchor block, one code path for training and serving.

At anchor t (the last mined block) the features see base fees of blocks <= t + 1 (the next
block's is fixed by EIP-1559 and returned by `eth_feeHistory`) and gas used ratios of blocks
<= t, never later. Levels are left out on purpose: everything is a log-ratio or a ratio, so a
model trained at 80 gwei also answers at 8 or 800.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from titan_ml.forecast.history import FeeHistory, FloatArray

WINDOW = 32  # blocks of history a feature row looks back over
RATIO_LAGS = 8
MOMENTUM = (1, 2, 3, 5, 8, 13, 21, 32)
MEAN_SPANS = (4, 8, 16, 32)
VOL_SPANS = (8, 32)
EWMA_HALF_LIVES = (2, 4, 8, 16)

FEATURE_NAMES: tuple[str, ...] = (
    *(f"gas_used_ratio_lag{k}" for k in range(RATIO_LAGS)),
    *(f"log_change_{k}" for k in MOMENTUM),
    *(f"mean_ratio_{m}" for m in MEAN_SPANS),
    *(f"volatility_{m}" for m in VOL_SPANS),
    *(f"ewma_ratio_hl{hl}" for hl in EWMA_HALF_LIVES),
    "full_share_8",
    "full_share_32",
    "empty_share_8",
    "ma_gap_8",
    "ma_gap_32",
)
# No time-of-day features: with two days of data they cannot learn a daily cycle; on the
# spans of scripts/forecast_cv.py (before the held-out one) they gain nothing at horizons 3 to 5.


def _window_mean(cumsum: FloatArray, end: npt.NDArray[np.int64], span: int) -> FloatArray:
    """Mean of the `span` values ending at index `end` (inclusive), from a 0-prefixed cumsum."""
    return (cumsum[end + 1] - cumsum[end + 1 - span]) / span


def _prefixed_cumsum(values: FloatArray) -> FloatArray:
    return np.concatenate(([0.0], np.cumsum(values)))


def feature_matrix(history: FeeHistory, anchors: npt.NDArray[np.int64]) -> FloatArray:
    """One row per anchor block index (>= WINDOW - 1); columns as FEATURE_NAMES."""
    a = np.asarray(anchors, dtype=np.int64)
    if a.size and a.min() < WINDOW - 1:
        raise ValueError(f"an anchor needs {WINDOW} blocks of history before it")
    lb = np.log(history.base_fee)
    r = history.gas_used_ratio
    cols: list[FloatArray] = [r[a - k] for k in range(RATIO_LAGS)]
    cols += [lb[a + 1] - lb[a + 1 - k] for k in MOMENTUM]
    cs_r = _prefixed_cumsum(r)
    cols += [_window_mean(cs_r, a, m) for m in MEAN_SPANS]
    d = np.diff(lb)  # d[i] = lb[i+1] - lb[i]: known for i <= t
    cs_d, cs_d2 = _prefixed_cumsum(d), _prefixed_cumsum(d * d)
    for m in VOL_SPANS:
        mean = _window_mean(cs_d, a, m)
        cols.append(np.sqrt(np.maximum(_window_mean(cs_d2, a, m) - mean * mean, 0.0)))
    windows = sliding_window_view(r, WINDOW)[a - (WINDOW - 1)]  # r[t - 31 .. t] per anchor
    for hl in EWMA_HALF_LIVES:
        w = 0.5 ** (np.arange(WINDOW - 1, -1, -1) / hl)
        cols.append(windows @ (w / w.sum()))
    full = _prefixed_cumsum((r > 0.95).astype(np.float64))
    empty = _prefixed_cumsum((r < 0.05).astype(np.float64))
    cols += [_window_mean(full, a, 8), _window_mean(full, a, 32), _window_mean(empty, a, 8)]
    cs_lb = _prefixed_cumsum(lb)
    cols += [lb[a + 1] - _window_mean(cs_lb, a + 1, 8), lb[a + 1] - _window_mean(cs_lb, a + 1, 32)]
    return np.column_stack(cols)


def targets(history: FeeHistory, anchors: npt.NDArray[np.int64], horizon: int) -> FloatArray:
    """log(base fee of block t + horizon / base fee of block t + 1) per anchor t."""
    lb = np.log(history.base_fee)
    a = np.asarray(anchors, dtype=np.int64)
    return lb[a + horizon] - lb[a + 1]


def anchor_range(history: FeeHistory, max_horizon: int) -> npt.NDArray[np.int64]:
    """Every anchor with a full window behind it and every horizon's answer ahead of it."""
    last = history.blocks - max_horizon  # a + max_horizon <= blocks (index into base_fee)
    return np.arange(WINDOW - 1, last + 1, dtype=np.int64)


_EWMA_WEIGHTS = np.array([0.5 ** (np.arange(WINDOW - 1, -1, -1) / hl) for hl in EWMA_HALF_LIVES])
_EWMA_WEIGHTS /= _EWMA_WEIGHTS.sum(axis=1, keepdims=True)
_MOMENTUM_INDEX = np.array([-1 - k for k in MOMENTUM])


def feature_row(history: FeeHistory) -> FloatArray:
    """`feature_matrix` at the last block, in a third of the numpy calls: the serving path.
    A test holds it equal to `feature_matrix`."""
    if history.blocks < WINDOW:
        raise ValueError(f"a forecast needs {WINDOW} blocks of history")
    lb = np.log(history.base_fee[-(WINDOW + 1) :])  # blocks t - 31 .. t + 1
    r = history.gas_used_ratio[-WINDOW:]  # blocks t - 31 .. t
    last = lb[-1]
    cs = np.cumsum(r[::-1])
    d = np.diff(lb)
    d8 = d[-8:]
    full = r > 0.95
    # sums over lengths, not ndarray.mean: the same numbers, at a fifth of mean's overhead on
    # arrays this short (nine of them made up a third of this function's time)
    return np.concatenate(
        (
            r[: -RATIO_LAGS - 1 : -1],
            last - lb[_MOMENTUM_INDEX],
            cs[[m - 1 for m in MEAN_SPANS]] / np.array(MEAN_SPANS),
            (
                math.sqrt(max(float((d8 * d8).sum() / 8 - (d8.sum() / 8) ** 2), 0.0)),
                math.sqrt(max(float((d * d).sum() / WINDOW - (d.sum() / WINDOW) ** 2), 0.0)),
            ),
            _EWMA_WEIGHTS @ r,
            (
                np.count_nonzero(full[-8:]) / 8,
                np.count_nonzero(full) / WINDOW,
                np.count_nonzero(r[-8:] < 0.05) / 8,
                last - lb[-8:].sum() / 8,
                last - lb[-32:].sum() / 32,
            ),
        )
    )[None, :]
