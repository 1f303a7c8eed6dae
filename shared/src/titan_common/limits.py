"""Admission limits of every Python service, as ASGI middleware, each answering in the error shape:

- requests in flight: past `max_in_flight`, a 503 `overloaded` with `Retry-After` at once, so a
  burst is shed instead of queueing into a storm of timeouts (probes stay open);
- request body size: 413 `payload_too_large`, from `Content-Length` before reading, or as soon
  as a streamed body passes the limit;
- inbound WebSocket messages: larger than `ws_max_message_bytes` closes with 1009, more than
  `ws_max_message_rate` a second (burst of twice that) closes with 1008, each with a reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.exceptions import HTTPException

from titan_common.asgi import ASGIApp, Message, Receive, Scope, Send, header, send_error
from titan_common.errors import OverloadedError, PayloadTooLargeError

# Probes answer even when the service is saturated: an orchestrator must not restart a
# service for being busy, and metrics matter most then.
PROBE_PATHS = frozenset({"/health", "/ready", "/metrics"})
_MESSAGE_TOO_BIG = 1009
_POLICY_VIOLATION = 1008


@dataclass(frozen=True)
class Limits:
    max_in_flight: int = 256
    max_body_bytes: int = 1 << 20
    ws_max_message_bytes: int = 1 << 16
    ws_max_message_rate: float = 20.0


class InFlightLimit:
    """Sheds HTTP requests past `limit` in flight; WebSockets are long-lived and not counted."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit, self.in_flight = app, limit, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await send_error(scope, send, OverloadedError(self.limit))
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class _BodyTooLarge(HTTPException):
    # Raised from inside `receive` while the app reads the body: FastAPI lets HTTP exceptions
    # through its body parsing, so the error handlers answer it in the error shape.
    def __init__(self, limit: int) -> None:
        super().__init__(413, PayloadTooLargeError(limit).message)


class BodySizeLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await send_error(scope, send, PayloadTooLargeError(self.limit))
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise _BodyTooLarge(self.limit)
            return message

        await self.app(scope, counted, send)


class WsMessageLimit:
    """Bounds what a WebSocket client sends: message size, and rate by a token bucket."""

    def __init__(self, app: ASGIApp, max_bytes: int, rate: float) -> None:
        self.app, self.max_bytes, self.rate = app, max_bytes, rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        burst = max(1.0, 2 * self.rate)
        tokens, last = burst, time.monotonic()

        async def limited() -> Message:
            nonlocal tokens, last
            message = await receive()
            if message["type"] != "websocket.receive":
                return message
            data = message.get("bytes") or (message.get("text") or "").encode()
            now = time.monotonic()
            tokens, last = min(burst, tokens + (now - last) * self.rate), now
            if len(data) > self.max_bytes:
                return await _close(send, _MESSAGE_TOO_BIG, f"message over {self.max_bytes} bytes")
            if tokens < 1:
                return await _close(send, _POLICY_VIOLATION, "too many messages")
            tokens -= 1
            return message

        await self.app(scope, limited, send)


async def _close(send: Send, code: int, reason: str) -> Message:
    """Close the connection and tell the app the client is gone."""
    await send({"type": "websocket.close", "code": code, "reason": reason})
    return {"type": "websocket.disconnect", "code": code, "reason": reason}
