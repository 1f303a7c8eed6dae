"""Raw ASGI plumbing shared by titan_common's middleware: the callable types and an error answer
in the one JSON shape, for HTTP and for a WebSocket refused before its upgrade.

The middleware is plain ASGI, not Starlette's `BaseHTTPMiddleware`: that one runs each request
through an extra task and memory streams (a fixed latency cost), and never sees WebSockets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from titan_common.errors import TitanError, error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Close code for a WebSocket refused before the upgrade when the server cannot send an HTTP
# answer instead (the server turns it into 403).
_POLICY_VIOLATION = 1008


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a request header (`name` in lower case)."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


async def send_error(scope: Scope, send: Send, err: TitanError) -> None:
    """Answer `err` in the JSON error shape; for a WebSocket, refuse it before the upgrade with
    the same HTTP answer where the server supports it (uvicorn does), else close it."""
    body = orjson.dumps(error_body(err.code, err.message, err.details))
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    headers += [(k.lower().encode(), v.encode()) for k, v in (err.headers or {}).items()]
    if scope["type"] == "http":
        prefix = "http."
    elif "websocket.http.response" in scope.get("extensions", {}):
        prefix = "websocket.http."
    else:
        await send({"type": "websocket.close", "code": _POLICY_VIOLATION, "reason": err.code})
        return
    await send({"type": prefix + "response.start", "status": err.status, "headers": headers})
    await send({"type": prefix + "response.body", "body": body})
