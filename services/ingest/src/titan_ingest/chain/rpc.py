"""JSON-RPC over HTTP with failover between a chain's endpoints, and batch requests.

Built on web3.py's `AsyncHTTPProvider` for encoding requests and matching batch answers (raw
responses: ingest decodes what it reads itself), over our own httpx client: web3.py's session
manager takes a process-wide threading lock through a thread pool on every request, which
costs a thread hop per call and deadlocks when synchronous web3 code in the same thread holds
it. A transport failure or timeout moves to the next endpoint and retries; an error answered by
the node (`RpcError`) is the caller's to handle. When every endpoint fails, `RpcUnavailable`
(both `titan_common.jsonrpc`'s, as the scanner and ML raise them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import httpx
import structlog
from web3 import AsyncWeb3
from web3._utils.batching import sort_batch_response_by_response_ids
from web3.providers.rpc import AsyncHTTPProvider
from web3.types import RPCEndpoint, RPCResponse

from titan_common.jsonrpc import RpcError as RpcError  # re-exported: ingest's modules use them
from titan_common.jsonrpc import RpcUnavailable as RpcUnavailable
from titan_ingest.chain.abi import MalformedLogError, to_hash, to_int

_log = structlog.get_logger("titan_ingest.rpc")

Call = tuple[str, Any]  # (method, params)


@dataclass(frozen=True, slots=True)
class Header:
    number: int
    hash: str
    parent_hash: str
    timestamp: int

    @classmethod
    def parse(cls, block: Any) -> Header:
        if not isinstance(block, dict):
            raise MalformedLogError("a block must be an object")
        try:
            return cls(
                to_int(block["number"]),
                to_hash(block["hash"]),
                to_hash(block["parentHash"]),
                to_int(block.get("timestamp", 0)),
            )
        except KeyError as exc:
            raise MalformedLogError(f"block without {exc}") from exc


_TRANSPORT_ERRORS = (
    httpx.TransportError,
    httpx.HTTPStatusError,
    asyncio.TimeoutError,
    OSError,
    ValueError,
)


class _HttpProvider(AsyncHTTPProvider):
    """web3.py's HTTP provider with the transport replaced by one long-lived httpx client."""

    def __init__(self, url: str, timeout: float) -> None:
        super().__init__(url, exception_retry_configuration=None)
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            headers={"Content-Type": "application/json"},
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
        )

    async def _post(self, request_data: bytes) -> bytes:
        response = await self._client.post(str(self.endpoint_uri), content=request_data)
        response.raise_for_status()
        return response.content

    async def _make_request(self, method: RPCEndpoint, request_data: bytes) -> bytes:
        return await self._post(request_data)

    async def make_batch_request(
        self, batch_requests: list[tuple[RPCEndpoint, Any]]
    ) -> list[RPCResponse] | RPCResponse:
        raw = await self._post(self.encode_batch_rpc_request(batch_requests))
        response = self.decode_rpc_response(raw)
        if not isinstance(response, list):
            return response  # one error object for the whole batch
        return cast(list[RPCResponse], sort_batch_response_by_response_ids(response))

    async def disconnect(self) -> None:
        await self._client.aclose()


class RpcClient:
    def __init__(
        self,
        urls: Sequence[str],
        timeout: float = 10.0,
        batch_size: int = 1000,
        concurrency: int = 2,
    ) -> None:
        if not urls:
            raise ValueError("at least one RPC URL is needed")
        self.urls = list(urls)
        self.batch_size = batch_size
        self._semaphore = asyncio.Semaphore(concurrency)
        self._providers = [_HttpProvider(url, timeout) for url in self.urls]
        self.w3 = [AsyncWeb3(p) for p in self._providers]
        self._current = 0
        self.failovers = 0
        self.requests = 0

    @property
    def url(self) -> str:
        return self.urls[self._current]

    async def close(self) -> None:
        for provider in self._providers:
            await provider.disconnect()

    async def _send(self, attempt: Any) -> Any:
        """Run `attempt(provider)` on the current endpoint, failing over on transport errors."""
        last: Exception | None = None
        for _ in range(len(self._providers)):
            index = self._current
            try:
                self.requests += 1
                return await attempt(self._providers[index])
            except _TRANSPORT_ERRORS as exc:
                last = exc
                if len(self._providers) > 1:
                    self._current = (index + 1) % len(self._providers)
                    self.failovers += 1
                    _log.warning(
                        "ingest.rpc.failed_over",
                        url=self.urls[index],
                        to=self.urls[self._current],
                        error=type(exc).__name__,
                    )
        raise RpcUnavailable(f"no RPC endpoint answered ({type(last).__name__}: {last})")

    async def request(self, method: str, params: Any) -> Any:
        async def attempt(provider: _HttpProvider) -> Any:
            return await provider.make_request(method, params)

        response = await self._send(attempt)
        return _result(method, response)

    async def batch(
        self,
        calls: Sequence[Call],
        on_chunk: Callable[[int], None] | None = None,
        size: int | None = None,
    ) -> list[Any]:
        """Results in order; a call the node refused is an `RpcError` in its place.

        `size` calls go per request (default `batch_size`); `on_chunk(n)` is called as each
        chunk of n calls is answered (for a progress bar).
        """
        size = size or self.batch_size
        chunks = [calls[i : i + size] for i in range(0, len(calls), size)]
        results = await asyncio.gather(*(self._batch_chunk(chunk, on_chunk) for chunk in chunks))
        return [item for chunk in results for item in chunk]

    async def _batch_chunk(
        self, calls: Sequence[Call], on_chunk: Callable[[int], None] | None
    ) -> list[Any]:
        async def attempt(provider: _HttpProvider) -> Any:
            return await provider.make_batch_request(list(calls))  # type: ignore[arg-type]

        async with self._semaphore:
            responses = await self._send(attempt)
        if on_chunk is not None:
            on_chunk(len(calls))
        if not isinstance(responses, list) or len(responses) != len(calls):
            raise RpcError("batch", responses.get("error") if isinstance(responses, dict) else "")
        out: list[Any] = []
        for (method, _), response in zip(calls, responses, strict=True):
            try:
                out.append(_result(method, response))
            except RpcError as exc:
                out.append(exc)
        return out

    # -- typed helpers

    async def block_number(self) -> int:
        return to_int(await self.request("eth_blockNumber", []))

    async def header(self, block: int | str = "latest") -> Header:
        tag = hex(block) if isinstance(block, int) else block
        return Header.parse(await self.request("eth_getBlockByNumber", [tag, False]))

    async def headers(self, numbers: Sequence[int]) -> list[Header]:
        results = await self.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        out = []
        for result in results:
            if isinstance(result, Exception):
                raise result
            out.append(Header.parse(result))
        return out

    async def get_logs(self, filter_params: dict[str, Any]) -> list[dict[str, Any]]:
        result = await self.request("eth_getLogs", [filter_params])
        if not isinstance(result, list):
            raise RpcError("eth_getLogs", "the answer is not a list")
        return result


def _result(method: str, response: Any) -> Any:
    if not isinstance(response, dict):
        raise RpcError(method, "the answer is not a JSON-RPC response")
    if response.get("error") is not None:
        raise RpcError(method, response["error"])
    if "result" not in response:
        raise RpcError(method, "the answer has no result")
    return response["result"]
