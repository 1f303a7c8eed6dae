"""The scanner's FastAPI app: `create_app(settings)` wires routes, errors, metrics, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from titan_common.errors import install_error_handlers
from titan_common.observability import install_observability
from titan_scanner import __version__
from titan_scanner.api import dashboard, health, opportunities, paper_trades, stats, ws
from titan_scanner.runtime import build_runtime
from titan_scanner.settings import ScannerSettings


def create_app(
    settings: ScannerSettings,
    transports: dict[str, httpx.AsyncBaseTransport] | None = None,
    start_source: bool = True,
) -> FastAPI:
    """The app; the runtime starts in the lifespan. `transports` replace HTTP in tests."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = build_runtime(settings, registry, transports)
        app.state.runtime = rt
        await rt.start(with_source=start_source)
        try:
            yield
        finally:
            app.state.runtime = None
            await rt.stop()

    app = FastAPI(
        title="Titan scanner",
        version=__version__,
        description="Arbitrage opportunities from live pool updates, priced exactly by the "
        "engine, net of forecast gas, decided by the policy and proven on the chain.",
        lifespan=lifespan,
    )
    app.state.runtime = None
    install_error_handlers(app)
    registry = install_observability(
        app,
        "scanner",
        api_key=settings.api_key,
        limits=settings.limits(settings.scanner_max_in_flight),
        # the dashboard page is static: its data comes from the API, with the key
        open_paths={"/"},
    )
    for module in (health, opportunities, paper_trades, stats, ws, dashboard):
        app.include_router(module.router)
    return app
