"""Progress bars for a training run on the terminal (rich), and the summary table after it."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from titan_ml.training.pipeline import Progress as RunProgress


class RichProgress(RunProgress):
    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: Any = None

    def phase(self, name: str, total: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=self._progress.tasks[-1].total)
        self._task = self._progress.add_task(name, total=total)

    def advance(self, label: str = "") -> None:
        self._progress.advance(self._task)


def progress_bars(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def print_summary(console: Console, summary: dict[str, Any]) -> None:
    horizons = summary["forecaster"]["evaluation"]["horizons"]
    table = Table(title="Forecaster, held-out span: MAE gwei (MAPE %)")
    for col in ("h", "model", "last value", "EIP-1559", "moving avg", "vs last value"):
        table.add_column(col, justify="right")
    for h, row in horizons.items():
        cells = [
            f"{row[k]['mae']:.3f} ({row[k]['mape']:.2f})"
            for k in ("model", "last_value", "eip1559", "moving_average")
        ]
        table.add_row(h, *cells, f"{row['model_vs_last_value_mae_reduction_pct']:+.1f} %")
    console.print(table)
    if "skipped" in summary["rl"]:
        console.print(f"Q-learning skipped: {summary['rl']['skipped']}")
        console.print(f"trained in {summary['seconds']:.1f} s")
        return
    for name, market in summary["rl"]["markets"].items():
        rl = market["evaluation"]
        title = f"Q-learning on {name}, {rl['episodes']} held-out episodes: reward ETH"
        rl_table = Table(title=title)
        for col in ("policy", "mean", "std", "executions"):
            rl_table.add_column(col, justify="right")
        for policy, row in rl["policies"].items():
            rl_table.add_row(
                policy,
                f"{row['mean_reward_eth']:.4f}",
                f"{row['std_reward_eth']:.4f}",
                f"{row['mean_executions']:.1f}",
            )
        console.print(rl_table)
    for name, reason in summary["rl"].get("left_out", {}).items():
        console.print(f"Q-learning left {name} out: {reason}")
    console.print(f"trained in {summary['seconds']:.1f} s")
