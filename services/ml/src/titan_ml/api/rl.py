"""`POST /api/rl/action` and its batch form."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from titan_ml.api.schemas import RlActionResponse, RlBatchRequest, RlBatchResponse, RlStateIn
from titan_ml.serving.actions import batch_json, decide

router = APIRouter(tags=["rl"])


@router.post("/api/rl/action", response_model=RlActionResponse)
async def rl_action(body: RlStateIn, request: Request) -> RlActionResponse:
    """The agent's greedy action for one opportunity and the Q-value of every action."""
    return decide(request.app.state.registry, body)


@router.post("/api/rl/action/batch", response_model=RlBatchResponse)
async def rl_action_batch(body: RlBatchRequest, request: Request) -> Response:
    """One answer per state, in order; `q_values: false` leaves the Q-values out (the scanner
    reads only the actions, a quarter of the bytes)."""
    content = batch_json(request.app.state.registry, body.states, body.q_values)
    return Response(content, media_type="application/json")
