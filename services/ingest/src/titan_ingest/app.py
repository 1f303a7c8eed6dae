"""The ingest service: `create_app(settings)` builds the FastAPI app around the pipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from titan_common.errors import install_error_handlers
from titan_common.observability import install_observability
from titan_ingest import metrics
from titan_ingest.api import pools, status, ws
from titan_ingest.settings import IngestSettings
from titan_ingest.sync.pipeline import IngestPipeline, load_chain


def create_app(
    settings: IngestSettings,
    pipeline: IngestPipeline | None = None,
    run_pipeline: bool = True,
) -> FastAPI:
    """The app; `pipeline` defaults to one for the configured chain, started with the app
    unless `run_pipeline` is False (tests that drive the store themselves)."""
    pipeline = pipeline or IngestPipeline(settings, load_chain(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if run_pipeline:
            await pipeline.start()
        try:
            yield
        finally:
            await pipeline.stop()

    app = FastAPI(
        title="Titan ingest",
        version="0.1.0",
        summary="Exact, live Uniswap V2/V3 pool state from the chain.",
        lifespan=lifespan,
    )
    app.state.pipeline = pipeline
    app.state.settings = settings
    install_error_handlers(app)
    registry = install_observability(
        app,
        "ingest",
        api_key=settings.api_key,
        limits=settings.limits(settings.ingest_max_in_flight),
    )
    metrics.register(registry, pipeline)
    app.include_router(status.router)
    app.include_router(pools.router)
    app.include_router(ws.router)
    return app
