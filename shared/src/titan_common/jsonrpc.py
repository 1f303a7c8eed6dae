"""JSON-RPC over HTTP for the chain reads of the scanner and ML: one long-lived connection.

web3.py's `AsyncWeb3` runs each call through its middleware (request formatters, validators,
the caching layer, result formatters) and its provider opens a new connection per call: in the
scanner that was a third of its main thread's busy time, proofs and probes competing with the
block's pricing on one event loop. The reads made here are a handful of methods whose answers
are hex strings, decoded where they are used. Transactions (paper trading) still go through
web3, which signs them and keeps the nonce.

    ChainError
    ├── RpcUnavailable   no answer: refused, dropped, timed out, not JSON-RPC
    └── RpcError         the node answered with an error (a revert, a bad request)
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx
import orjson

from titan_common.clients import AnswerClock, async_client
from titan_common.redaction import redact_url


class ChainError(Exception):
    """Base of every failure a `JsonRpcClient` call raises."""


class RpcUnavailable(ChainError):
    """The node did not answer: the same call may work later."""


class RpcError(ChainError):
    """The node answered with an error object."""

    def __init__(self, method: str, error: Any) -> None:
        message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
        super().__init__(f"{method}: {message}")
        self.method = method
        self.error = error


class JsonRpcClient(AnswerClock):
    """`request(method, params)` -> the answer's `result`, on one pooled connection."""

    def __init__(
        self, url: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.url = url
        # Credentials in the URL (`https://user:key@node`) go in the Authorization header:
        # aiohttp refuses a URL that carries them beside the header httpx makes of them.
        parsed = httpx.URL(url)
        auth = (parsed.username, parsed.password) if parsed.username else None
        self._endpoint = parsed.copy_with(username=None, password=None) if auth else parsed
        self._http = async_client(timeout, transport, auth=auth)
        self._ids = itertools.count(1)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(self, method: str, params: list[Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        where = f"{method} at {redact_url(self.url)}"
        try:
            response = await self._http.post(
                self._endpoint, content=orjson.dumps(body), headers=_JSON_HEADERS
            )
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise RpcUnavailable(f"{where}: {type(exc).__name__}: {exc}") from exc
        try:
            # The stdlib, not orjson: orjson reads an integer past 64 bits as a float.
            answer = json.loads(response.content)
        except ValueError as exc:
            raise RpcUnavailable(f"{where}: HTTP {response.status_code}, not JSON") from exc
        if not isinstance(answer, dict):
            raise RpcUnavailable(f"{where}: HTTP {response.status_code}, not a JSON-RPC answer")
        self.heard()  # an error answer too: the node is there
        if answer.get("error") is not None:
            raise RpcError(method, answer["error"])
        if "result" not in answer:
            raise RpcUnavailable(f"{where}: HTTP {response.status_code}, no result")
        return answer["result"]


_JSON_HEADERS = {"content-type": "application/json"}


def to_int(quantity: Any) -> int:
    """A JSON-RPC quantity ("0x1a") as an int."""
    if isinstance(quantity, int):
        return quantity
    return int(quantity, 16)
