"""`GET /health`, `GET /ready`, `GET /api/stats`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from titan_common.models import Health, IngestStats, Readiness
from titan_ingest.sync.pipeline import IngestPipeline

router = APIRouter(tags=["status"])


@router.get("/health", response_model=Health)
async def health() -> Health:
    return Health(service="ingest")


@router.get("/ready", response_model=Readiness, responses={503: {"model": Readiness}})
async def ready(request: Request, response: Response) -> Readiness:
    """Not ready while syncing, when the node does not answer, or when behind the head by
    more than `INGEST_MAX_LAG_BLOCKS`."""
    pipeline: IngestPipeline = request.app.state.pipeline
    is_ready, checks = pipeline.readiness()
    if not is_ready:
        response.status_code = 503
    return Readiness(ready=is_ready, checks=checks)


@router.get("/api/stats", response_model=IngestStats)
async def stats(request: Request) -> IngestStats:
    pipeline: IngestPipeline = request.app.state.pipeline
    return IngestStats(**pipeline.stats_view())
