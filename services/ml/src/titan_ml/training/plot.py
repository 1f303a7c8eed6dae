"""The held-out span drawn: actual base fee against the forecasts, one PNG beside the metadata."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from titan_ml.forecast.train import FitResult


def plot_forecasts(fit: FitResult, path: Path, horizon: int = 3) -> None:
    h = min(horizon, max(fit.test_model))
    blocks = fit.test_blocks + h
    fig, ax = plt.subplots(figsize=(11, 4.5), dpi=90)
    ax.plot(blocks, fit.test_actual[h] / 1e9, lw=0.8, color="black", label="actual")
    ax.plot(
        blocks, fit.test_model[h] / 1e9, lw=0.8, color="tab:blue", label=f"model, {h} blocks ahead"
    )
    ax.plot(
        blocks, fit.test_last_value / 1e9, lw=0.6, color="tab:orange", alpha=0.7, label="last value"
    )
    ax.set_xlabel("block")
    ax.set_ylabel("base fee (gwei)")
    ax.set_title(f"Held-out span: base fee forecast {h} blocks ahead vs actual")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
