"""Training in a process of its own: its failures reported with their cause, and ended when
the job is cancelled (the service stopping)."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from pathlib import Path

import pytest

from titan_ml.serving.jobs import TrainingFailed, train_in_process
from titan_ml.settings import MlSettings
from titan_ml.training.pipeline import TrainOptions


async def test_a_failing_training_says_why(
    settings_factory: Callable[..., MlSettings], tmp_path: Path
) -> None:
    settings = settings_factory(ml_data_dir=tmp_path)
    missing = tmp_path / "no_such_history.csv"
    with pytest.raises(TrainingFailed, match=r"no_such_history\.csv"):
        await train_in_process(settings, TrainOptions(history_file=missing))
    assert multiprocessing.active_children() == []


async def test_a_cancelled_training_ends_its_process(
    settings_factory: Callable[..., MlSettings], tmp_path: Path
) -> None:
    settings = settings_factory(ml_data_dir=tmp_path)
    job = asyncio.create_task(train_in_process(settings, TrainOptions(episodes=100_000)))
    for _ in range(200):
        if any(p.name == "titan-ml-train" for p in multiprocessing.active_children()):
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("no training process started")
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert multiprocessing.active_children() == []
