"""Compare forecaster designs without looking at the held-out span:
`uv run python services/ml/scripts/forecast_cv.py [--oracle RHO]` (reads `TITAN_SHARED_DATA` like
training).

`titan-ml train` reports its numbers on the last 20 % of the blocks; choosing features or
parameters by those numbers would tune on the test span. This script reruns the same
`fit_forecaster` on the first 65 % and the first 80 % of the fee history: each run's own test
span (blocks 52-65 % and 64-80 % of the whole) lies inside the full run's training and
validation spans, so a design chosen here has never seen the held-out blocks.

`--oracle RHO` adds one feature no forecaster can have: the gas use of the block after the
anchor (read from the base fee that follows it), blurred by seeded noise to a correlation RHO
with the truth (1: exact). Each line also prints how well the model's own h=2 forecast foresees
that gas use (a correlation); what the oracle reaches at h=5 for larger RHO shows how much of
the goal there lies in information a base-fee history does not hold.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import numpy.typing as npt

from titan_ml.forecast.features import feature_matrix
from titan_ml.forecast.history import FeeHistory, FloatArray, load_base_fee_csv
from titan_ml.forecast.train import Features, FitResult, fit_forecaster
from titan_ml.settings import MlSettings

FOLDS = (0.65, 0.80)


def next_step_correlation(fit: FitResult) -> float:
    """How well the model foresees the next block's gas use on the test span: the correlation
    of its h=2 forecast of log(b[t + 2] / b[t + 1]) with the step that came."""
    known = fit.test_actual[1]  # b[t + 1], fixed at the anchor
    forecast = np.log(fit.test_model[2] / known)
    came = np.log(fit.test_actual[2] / known)
    return float(np.corrcoef(forecast, came)[0, 1])


def next_gas_use_oracle(correlation: float, seed: int) -> Features:
    """`feature_matrix` and the oracle's column: log(b[t + 2] / b[t + 1]), the EIP-1559 step
    that block t + 1's gas use makes (not known at anchor t), mixed with Gaussian noise of the
    same spread so that the column correlates `correlation` with it."""

    def features(history: FeeHistory, anchors: npt.NDArray[np.int64]) -> FloatArray:
        lb = np.log(history.base_fee)
        a = np.asarray(anchors, dtype=np.int64)
        steps = lb[2:] - lb[1:-1]  # steps[t]: the step after anchor t
        # noise drawn per block, not per row: a block's value is the same in every split
        noise = np.random.default_rng(seed).standard_normal(len(steps)) * np.std(steps)
        blurred = correlation * steps + np.sqrt(1 - correlation**2) * noise
        return np.column_stack([feature_matrix(history, a), blurred[a]])

    return features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--oracle",
        type=float,
        metavar="RHO",
        help="add the next block's gas use as a feature, at this correlation (0-1] with the truth",
    )
    args = parser.parse_args()
    if args.oracle is not None and not 0 < args.oracle <= 1:
        parser.error("--oracle takes a correlation in (0, 1]")
    settings = MlSettings()
    features: Features = (
        feature_matrix
        if args.oracle is None
        else next_gas_use_oracle(args.oracle, settings.ml_seed)
    )
    history = load_base_fee_csv(settings.base_fee_file)
    for share in FOLDS:
        started = time.perf_counter()
        fit = fit_forecaster(
            history.head(int(history.blocks * share)),
            settings.ml_max_horizon,
            settings.ml_seed,
            features=features,
        )
        rows = fit.evaluation["horizons"]
        cells = " ".join(
            f"h{h}={rows[h]['model_vs_last_value_mae_reduction_pct']:5.1f}%"
            for h in sorted(rows, key=int)
            if h != "1"
        )
        test = fit.spans["test"]
        print(
            f"first {share:.0%} (test blocks {test['first_block']}-{test['last_block']}): "
            f"MAE below last value {cells}; h2 forecast of the next step correlates "
            f"{next_step_correlation(fit):.2f} with it ({time.perf_counter() - started:.1f} s)"
        )


if __name__ == "__main__":
    main()
