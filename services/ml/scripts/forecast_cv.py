"""Compare forecaster designs without looking at the held-out span:
`uv run python services/ml/scripts/forecast_cv.py` (reads `TITAN_SHARED_DATA` like training).

`titan-ml train` reports its numbers on the last 20 % of the blocks; choosing features or
parameters by those numbers would tune on the test span. This script reruns the same
`fit_forecaster` on the first 65 % and the first 80 % of the fee history: each run's own test
span (blocks 52-65 % and 64-80 % of the whole) lies inside the full run's training and
validation spans, so a design chosen here has never seen the held-out blocks.
"""

from __future__ import annotations

import time

from titan_ml.forecast.history import load_base_fee_csv
from titan_ml.forecast.train import fit_forecaster
from titan_ml.settings import MlSettings

FOLDS = (0.65, 0.80)


def main() -> None:
    settings = MlSettings()
    history = load_base_fee_csv(settings.base_fee_file)
    for share in FOLDS:
        started = time.perf_counter()
        fit = fit_forecaster(
            history.head(int(history.blocks * share)), settings.ml_max_horizon, settings.ml_seed
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
            f"MAE below last value {cells} ({time.perf_counter() - started:.1f} s)"
        )


if __name__ == "__main__":
    main()
