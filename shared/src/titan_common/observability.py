"""Request ids, per-route latency histograms, the event loop's lag, the garbage collector's
pauses (and the heap it no longer walks) and `GET /metrics` for FastAPI apps, and the one call
that puts every titan_common middleware (API key, limits) in front of a service.

All of it is plain ASGI middleware (see `titan_common.asgi` for why), covering WebSockets too:
a WebSocket gets a request id (echoed in the upgrade's headers) and its handshake is timed under
method `WS`, status 101 when accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

import structlog
from fastapi import FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import SecretStr

from titan_common.asgi import ASGIApp, Message, Receive, Scope, Send, header
from titan_common.auth import ApiKeyGuard
from titan_common.limits import BodySizeLimit, InFlightLimit, Limits, WsMessageLimit

# A WebSocket closed before its upgrade is refused by the server with this status.
_WS_CLOSED_BEFORE_ACCEPT = 403
# How often the event loop's lag is sampled.
_LAG_PERIOD_S = 0.05


class RequestObserver:
    """Gives each request an id (the caller's `X-Request-ID`, else a new one), binds it to the
    logs' context, echoes it in the response and times the request by route and status."""

    def __init__(self, app: ASGIApp, service: str, latency: Histogram) -> None:
        self.app, self.service, self.latency = app, service, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = header(scope, b"x-request-id")
        request_id = given.decode("latin-1") if given else uuid.uuid4().hex
        # `request.state.request_id`, read by the error handlers.
        scope.setdefault("state", {})["request_id"] = request_id
        method = scope.get("method", "WS")
        status = 0
        started = time.perf_counter()
        observed = False

        def observe() -> None:
            nonlocal observed
            route = getattr(scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - started
            self.latency.labels(self.service, route, method, str(status)).observe(elapsed)
            observed = True

        async def tagged(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", id_bytes)]
            elif kind == "websocket.accept":
                status = 101
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", id_bytes)]
            elif kind == "websocket.close" and status == 0:
                status = _WS_CLOSED_BEFORE_ACCEPT
            await send(message)
            if scope["type"] == "websocket" and status and not observed:
                observe()  # a WebSocket is timed to its handshake, not its lifetime

        id_bytes = request_id.encode("latin-1")
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, tagged)
            except Exception:
                # answered 500 further out, by the error handlers
                status = status or 500
                raise
            finally:
                if not observed:
                    observe()


def install_observability(
    app: FastAPI,
    service: str,
    registry: CollectorRegistry | None = None,
    api_key: SecretStr | None = None,
    limits: Limits | None = None,
    open_paths: Iterable[str] = (),
) -> CollectorRegistry:
    """Put in front of `app`, outermost first: request ids and latency, the API-key check (when
    a key is set; `open_paths` beside `/health` need none), the in-flight limit, the body and
    WebSocket message limits. Adds `GET /metrics`.

    Each app gets its own registry (unless given one), so several apps in one process, as in
    tests, do not collide. Returns it, for the service's own metrics.
    """
    registry = registry or CollectorRegistry()
    limits = limits or Limits()
    latency = Histogram(
        "http_request_duration_seconds",
        "HTTP request latency by route and status (WebSockets: the handshake, method WS)",
        ["service", "route", "method", "status"],
        registry=registry,
        buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0),
    )
    # add_middleware wraps what is there: the last added runs first.
    app.add_middleware(WsMessageLimit, max_bytes=limits.ws_max_message_bytes,
                       rate=limits.ws_max_message_rate)  # fmt: skip
    app.add_middleware(BodySizeLimit, limit=limits.max_body_bytes)
    app.add_middleware(InFlightLimit, limit=limits.max_in_flight)
    if api_key is not None:
        app.add_middleware(ApiKeyGuard, api_key=api_key, open_paths=open_paths)
    app.add_middleware(RequestObserver, service=service, latency=latency)

    lag = Histogram(
        "event_loop_lag_seconds",
        "How late the event loop ran a timer: time a ready callback or message waited",
        ["service"],
        registry=registry,
        buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
    ).labels(service)
    pauses = Histogram(
        "gc_pause_seconds",
        "How long the garbage collector stopped the process, by generation",
        ["service", "generation"],
        registry=registry,
        buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
    )
    Gauge(
        "gc_frozen_objects",
        "Objects full collections skip: the heap a server froze after startup (titan_common.heap)",
        ["service"],
        registry=registry,
    ).labels(service).set_function(gc.get_freeze_count)
    _watch_runtime(app, service, lag, pauses)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return registry


def _watch_runtime(app: FastAPI, service: str, lag: Histogram, pauses: Histogram) -> None:
    """For the app's lifetime (its lifespan, wrapped): sample the event loop's lag, and time
    every garbage collection.

    Every wait in a service (an answer from the engine, the next pool update) also waits for
    the loop to be free: when latency grows with nothing slow outside, the lag shows it. A full
    collection over a big heap stops everything at once (every opportunity of a block)."""
    inner = app.router.lifespan_context
    by_generation = [pauses.labels(service, str(g)) for g in range(3)]
    collection_started = [0.0]

    async def sample() -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(_LAG_PERIOD_S)
            lag.observe(max(0.0, loop.time() - started - _LAG_PERIOD_S))

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collection_started[0] = time.perf_counter()
        else:
            by_generation[info["generation"]].observe(time.perf_counter() - collection_started[0])

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        task = asyncio.create_task(sample())
        gc.callbacks.append(timed)
        try:
            async with inner(app) as state:
                yield state
        finally:
            gc.callbacks.remove(timed)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.router.lifespan_context = lifespan
