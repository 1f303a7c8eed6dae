"""`GET /health` and `GET /ready`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from titan_common.models import Health, Readiness
from titan_ml.serving.registry import ModelRegistry

router = APIRouter(tags=["status"])


@router.get("/health", response_model=Health)
async def health() -> Health:
    return Health(service="ml")


@router.get("/ready", response_model=Readiness, responses={503: {"model": Readiness}})
async def ready(request: Request, response: Response) -> Readiness:
    """Ready when both models are loaded, or when ENABLE_ML_MODELS=false (baselines by design);
    otherwise 503 with the reason per model (the service still answers with baselines)."""
    registry: ModelRegistry = request.app.state.registry
    cur = registry.current
    checks = {"forecaster": cur.forecaster_message, "rl_agent": cur.agent_message}
    heads = request.app.state.heads  # informational: forecasts work without it
    if heads is not None:
        checks["chain_heads"] = (
            "ok"
            if heads.connected
            else f"not following ({heads.last_error or 'connecting'}): fee history on request"
        )
    is_ready = not registry.enabled or (cur.forecaster is not None and cur.agent is not None)
    if not is_ready:
        response.status_code = 503
    return Readiness(ready=is_ready, checks=checks)
