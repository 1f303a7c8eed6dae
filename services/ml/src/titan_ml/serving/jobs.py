"""Training jobs, one at a time, with their status kept for polling; and the optional schedule
(ML_AUTO_RETRAIN) that collects fee history and retrains.

A job trains in a process of its own, below the services' CPU priority. In a thread of this
one it held the GIL through the RL episodes: while `make up` retrained, forecasts answered
after the scanner's 0.5 s limit and its latency p99 went from ~30 ms to 660-770 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from titan_common.errors import TitanError
from titan_common.jsonrpc import ChainError
from titan_common.logging import get_logger
from titan_ml.forecast.collect import collect_to_file
from titan_ml.forecast.history import load_base_fee_csv
from titan_ml.serving.registry import ModelRegistry
from titan_ml.settings import MlSettings
from titan_ml.training.pipeline import TrainOptions, train_all

_log = get_logger("ml.train")
MIN_COLLECTED_BLOCKS = 600
TRAINING_NICENESS = 10  # added to the training process's nice value: the pipeline goes first


class TrainingFailed(Exception):
    """The training process raised (its message says what) or died."""


def _train_in_child(settings: MlSettings, options: TrainOptions, result: Connection) -> None:
    with contextlib.suppress(OSError):
        os.nice(TRAINING_NICENESS)
    try:
        result.send((True, train_all(settings, options)))
    except Exception as exc:
        result.send((False, f"{type(exc).__name__}: {exc}"))
    finally:
        result.close()


async def train_in_process(settings: MlSettings, options: TrainOptions) -> dict[str, Any]:
    """`train_all` in a fresh process; its summary. Cancelled, the process is ended."""
    context = multiprocessing.get_context("spawn")  # a fork would copy the running server
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_train_in_child, args=(settings, options, send), name="titan-ml-train", daemon=True
    )
    child.start()
    send.close()
    try:
        ok, value = await asyncio.to_thread(receive.recv)
    except EOFError:  # it died without a word
        ok, value = False, None
    finally:
        if child.is_alive():
            child.terminate()
        await asyncio.to_thread(child.join)
        receive.close()
    if not ok:
        raise TrainingFailed(value or f"the training process exited with {child.exitcode}")
    summary: dict[str, Any] = value
    return summary


@dataclass
class TrainJob:
    id: str
    options: TrainOptions
    status: str = "queued"  # queued, running, succeeded, failed
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    summary: dict[str, Any] | None = None


class TrainingJobs:
    def __init__(self, settings: MlSettings, registry: ModelRegistry) -> None:
        self.settings, self.registry = settings, registry
        self.jobs: dict[str, TrainJob] = {}
        self._running: asyncio.Task[None] | None = None
        self._schedule: asyncio.Task[None] | None = None

    def get(self, job_id: str) -> TrainJob | None:
        return self.jobs.get(job_id)

    def start(self, options: TrainOptions) -> TrainJob:
        if self._running is not None and not self._running.done():
            raise TitanError("training_in_progress", 409, "a training job is already running")
        job = TrainJob(uuid.uuid4().hex[:12], options)
        self.jobs[job.id] = job
        self._running = asyncio.create_task(self._run(job))
        return job

    async def _run(self, job: TrainJob) -> None:
        job.status, job.started_at = "running", time.time()
        _log.info("ml.train.started", job=job.id)
        try:
            summary = await train_in_process(self.settings, job.options)
        except Exception as exc:  # a failed run is reported on the job, never raised
            job.status = "failed"
            job.error = (
                str(exc) if isinstance(exc, TrainingFailed) else f"{type(exc).__name__}: {exc}"
            )
            _log.warning("ml.train.failed", job=job.id, error=job.error)
        else:
            job.status = "succeeded"
            job.summary = {
                "seconds": summary["seconds"],
                "evaluation": summary["forecaster"]["evaluation"],
                "rl": summary["rl"].get("evaluation", summary["rl"]),
            }
            self.registry.reload()
            _log.info("ml.train.finished", job=job.id, seconds=summary["seconds"])
        finally:
            job.finished_at = time.time()

    async def wait(self) -> None:
        if self._running is not None:
            await asyncio.wait([self._running])

    def start_schedule(self) -> None:
        self._schedule = asyncio.create_task(self._retrain_loop())

    async def _retrain_loop(self) -> None:
        # Without models, the first run starts at once rather than after a whole interval.
        first = self.registry.current.forecaster is None or self.registry.current.agent is None
        while True:
            if not first:
                await asyncio.sleep(self.settings.ml_retrain_interval)
            first = False
            try:
                options = await self._scheduled_options()
                job = self.start(options)
                _log.info("ml.retrain.scheduled", job=job.id)
                await self.wait()
            except TitanError:
                continue  # one is already running: try at the next tick

    async def _scheduled_options(self) -> TrainOptions:
        path = self.settings.collected_history_file
        if self.settings.ml_collect_blocks > 0:
            try:
                await collect_to_file(
                    self.settings.chain_rpc_url,
                    self.settings.ml_collect_blocks,
                    path,
                    rpc_timeout=self.settings.ml_rpc_timeout,
                )
            except (ChainError, OSError) as exc:
                _log.warning("ml.history.collect_failed", reason=str(exc))
        try:
            if load_base_fee_csv(path).blocks >= MIN_COLLECTED_BLOCKS:
                return TrainOptions(episodes=self.settings.ml_train_episodes, history_file=path)
        except (OSError, ValueError):
            pass
        return TrainOptions(episodes=self.settings.ml_train_episodes)

    async def aclose(self) -> None:
        for task in (self._schedule, self._running):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
