"""The API key: when `TITAN_API_KEY` is set, every HTTP request and WebSocket but the open paths
(`/health`) must carry it in the `X-API-Key` header; a wrong or missing key is a 401 in the error
shape, before the app (and before a WebSocket's upgrade). Compared in constant time.

Browsers cannot set headers on a WebSocket, so a WebSocket may give the key as the `api_key`
query parameter instead (the scanner's dashboard does); `titan_common.logging` masks it.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from urllib.parse import parse_qsl

from pydantic import SecretStr

from titan_common.asgi import ASGIApp, Receive, Scope, Send, header, send_error
from titan_common.errors import UnauthorizedError

# Paths a load balancer or orchestrator probes without a key.
OPEN_PATHS = frozenset({"/health"})


class ApiKeyGuard:
    """ASGI middleware refusing requests without the key; a pass-through when no key is set."""

    def __init__(self, app: ASGIApp, api_key: SecretStr, open_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.key = api_key.get_secret_value().encode()
        self.open_paths = OPEN_PATHS | frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        given = header(scope, b"x-api-key")
        if given is None and scope["type"] == "websocket":
            given = _query_key(scope)
        if given is None or not hmac.compare_digest(given, self.key):
            await send_error(scope, send, UnauthorizedError())
            return
        await self.app(scope, receive, send)


def _query_key(scope: Scope) -> bytes | None:
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    for name, value in parse_qsl(query):
        if name == "api_key":
            return value.encode()
    return None
