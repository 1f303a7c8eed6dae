"""`POST /api/rl/action` and its batch form."""

from __future__ import annotations

from fastapi import APIRouter, Request

from titan_ml.api.schemas import RlActionResponse, RlBatchRequest, RlBatchResponse, RlStateIn
from titan_ml.serving.actions import decide

router = APIRouter(tags=["rl"])


@router.post("/api/rl/action", response_model=RlActionResponse)
async def rl_action(body: RlStateIn, request: Request) -> RlActionResponse:
    """The agent's greedy action for one opportunity and the Q-value of every action."""
    return decide(request.app.state.registry, body)


@router.post("/api/rl/action/batch", response_model=RlBatchResponse)
async def rl_action_batch(body: RlBatchRequest, request: Request) -> RlBatchResponse:
    registry = request.app.state.registry
    return RlBatchResponse(actions=[decide(registry, s) for s in body.states])
