"""The ML service: `create_app(settings)` loads the models once and wires the routes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from titan_common.errors import install_error_handlers
from titan_common.observability import install_observability
from titan_ml.api import forecast, models, rl, status
from titan_ml.forecast.collect import FeeHistorySource
from titan_ml.forecast.heads import HeadFollower
from titan_ml.serving.forecasts import ForecastService
from titan_ml.serving.jobs import TrainingJobs
from titan_ml.serving.registry import ModelRegistry
from titan_ml.settings import MlSettings


def create_app(settings: MlSettings, fee_source: FeeHistorySource | None = None) -> FastAPI:
    """The app; `fee_source` defaults to `eth_feeHistory` at CHAIN_RPC_URL."""
    registry = ModelRegistry(settings)
    registry.reload()
    source = fee_source or FeeHistorySource(
        settings.chain_rpc_url,
        settings.ml_fee_history_blocks,
        settings.ml_fee_history_ttl,
        settings.ml_rpc_timeout,
    )
    jobs = TrainingJobs(settings, registry)
    forecasts = ForecastService(settings, registry, source)
    heads = (
        HeadFollower(settings.chain_ws_url, source, forecasts.warm)
        if settings.ml_follow_heads
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.ml_auto_retrain:
            jobs.start_schedule()
        following = asyncio.create_task(heads.run(), name="ml-heads") if heads else None
        try:
            yield
        finally:
            if following is not None:
                following.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await following
            await jobs.aclose()
            await source.aclose()

    app = FastAPI(
        title="Titan ML",
        version="0.1.0",
        summary="Gas forecasts and an execution policy, measured against baselines on real data.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.registry = registry
    app.state.jobs = jobs
    app.state.heads = heads
    app.state.forecasts = forecasts
    install_error_handlers(app)
    install_observability(
        app, "ml", api_key=settings.api_key, limits=settings.limits(settings.ml_max_in_flight)
    )
    for module in (status, forecast, rl, models):
        app.include_router(module.router)
    return app
