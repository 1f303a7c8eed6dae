"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from titan_common.models import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
async def health() -> Health:
    return Health(service="scanner")


@router.get("/ready", response_model=Readiness, responses={503: {"model": Readiness}})
async def ready(request: Request) -> JSONResponse:
    rt = getattr(request.app.state, "runtime", None)
    if rt is None:
        body = Readiness(ready=False, checks={"scanner": "starting"})
    else:
        body = Readiness(ready=rt.health.ready(), checks=rt.health.checks())
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)
