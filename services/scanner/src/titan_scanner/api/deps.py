"""How a route reaches the running scanner."""

from __future__ import annotations

from fastapi import Request, WebSocket

from titan_common.errors import UpstreamUnavailableError
from titan_scanner.runtime import Runtime


def runtime(request: Request) -> Runtime:
    rt: Runtime | None = getattr(request.app.state, "runtime", None)
    if rt is None:
        raise UpstreamUnavailableError("scanner", "the scanner is starting")
    return rt


def ws_runtime(websocket: WebSocket) -> Runtime | None:
    return getattr(websocket.app.state, "runtime", None)
