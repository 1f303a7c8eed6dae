"""Request ids, per-route latency histograms, API-key checks and `GET /metrics` for FastAPI apps."""

from __future__ import annotations

import hmac
import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from pydantic import SecretStr
from starlette.responses import JSONResponse

from titan_common.errors import UnauthorizedError, error_body

# Paths a load balancer or orchestrator probes without a key.
_OPEN_PATHS = frozenset({"/health"})


def install_observability(
    app: FastAPI,
    service: str,
    registry: CollectorRegistry | None = None,
    api_key: SecretStr | None = None,
) -> CollectorRegistry:
    """Add a request id, a latency histogram, the API-key check and `GET /metrics` to `app`.

    Each app gets its own registry (unless given one), so several apps in one process, as in
    tests, do not collide. Returns it, for the service's own metrics.
    """
    registry = registry or CollectorRegistry()
    latency = Histogram(
        "http_request_duration_seconds",
        "HTTP request latency by route and status",
        ["service", "route", "method", "status"],
        registry=registry,
        buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0),
    )
    key = api_key.get_secret_value().encode() if api_key else None

    @app.middleware("http")
    async def _observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.state.request_id = request_id
        if key is not None and request.url.path not in _OPEN_PATHS:
            given = request.headers.get("x-api-key", "").encode()
            if not hmac.compare_digest(given, key):
                err = UnauthorizedError()
                return JSONResponse(error_body(err.code, err.message), err.status)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        route = request.scope.get("route")
        latency.labels(
            service,
            getattr(route, "path", "unmatched"),
            request.method,
            str(response.status_code),
        ).observe(time.perf_counter() - started)
        response.headers["x-request-id"] = request_id
        return response

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return registry
