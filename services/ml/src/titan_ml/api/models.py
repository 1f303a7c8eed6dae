"""`GET /api/models`, `POST /api/train`, `GET /api/train/{id}`."""

from __future__ import annotations

import math
from dataclasses import asdict

from fastapi import APIRouter, Request

from titan_common.errors import NotFoundError
from titan_ml.api.schemas import ModelInfo, ModelsResponse, TrainJobOut, TrainRequest
from titan_ml.rl.state import STATE_SHAPE
from titan_ml.serving.jobs import TrainingJobs, TrainJob
from titan_ml.serving.registry import ModelRegistry
from titan_ml.training.pipeline import TrainOptions

router = APIRouter(tags=["models"])


@router.get("/api/models", response_model=ModelsResponse)
async def models(request: Request) -> ModelsResponse:
    """What is loaded, from which data, and how it measured against the baselines."""
    registry: ModelRegistry = request.app.state.registry
    cur = registry.current
    f_meta = cur.forecaster.metadata if cur.forecaster is not None else None
    return ModelsResponse(
        enabled=registry.enabled,
        forecaster=ModelInfo(
            loaded=cur.forecaster is not None, message=cur.forecaster_message, metadata=f_meta
        ),
        rl_agent=ModelInfo(
            loaded=cur.agent is not None,
            message=cur.agent_message,
            metadata=cur.rl_metrics,
            coverage=None
            if cur.agent is None
            else {"states_learned": cur.agent.states_learned(), "states": math.prod(STATE_SHAPE)},
        ),
    )


def _out(job: TrainJob) -> TrainJobOut:
    raw = asdict(job)
    raw.pop("options")
    return TrainJobOut(**raw)


@router.post("/api/train", response_model=TrainJobOut, status_code=202)
async def train(body: TrainRequest, request: Request) -> TrainJobOut:
    """Start a training run in the background (409 while one runs); poll its status."""
    jobs: TrainingJobs = request.app.state.jobs
    job = jobs.start(
        TrainOptions(samples=body.samples, episodes=body.episodes, synthetic=body.synthetic)
    )
    return _out(job)


@router.get("/api/train/{job_id}", response_model=TrainJobOut)
async def train_status(job_id: str, request: Request) -> TrainJobOut:
    jobs: TrainingJobs = request.app.state.jobs
    job = jobs.get(job_id)
    if job is None:
        raise NotFoundError(f"no training job {job_id}", {"id": job_id})
    return _out(job)
