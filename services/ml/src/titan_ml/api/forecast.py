"""`POST /api/forecast/gas` and its batch form."""

from __future__ import annotations

from fastapi import APIRouter, Request

from titan_ml.api.schemas import (
    ForecastBatchRequest,
    ForecastBatchResponse,
    ForecastRequest,
    ForecastResponse,
)
from titan_ml.serving.forecasts import ForecastService

router = APIRouter(tags=["forecast"])


def _service(request: Request) -> ForecastService:
    service: ForecastService = request.app.state.forecasts
    return service


@router.post("/api/forecast/gas", response_model=ForecastResponse, response_model_exclude_none=True)
async def forecast_gas(body: ForecastRequest, request: Request) -> ForecastResponse:
    """Base fee (and priority fee, when the history has rewards) per horizon, with quantiles.

    Without `fee_history` the chain's recent `eth_feeHistory` is used. Without a loaded model
    the answer is the EIP-1559 baseline, `model: "baseline_eip1559"`, with the reason."""
    return await _service(request).forecast(body)


@router.post(
    "/api/forecast/gas/batch",
    response_model=ForecastBatchResponse,
    response_model_exclude_none=True,
)
async def forecast_gas_batch(body: ForecastBatchRequest, request: Request) -> ForecastBatchResponse:
    service = _service(request)
    return ForecastBatchResponse(results=[await service.forecast(r) for r in body.requests])
