"""Typed HTTP clients between services, one per service API.

Each wraps one long-lived `httpx.AsyncClient` (open it in the app's lifespan) with a base URL
and explicit timeouts, and turns failures back into exceptions. Requests go through aiohttp's
connection (httpx-aiohttp's transport, `async_client`): a call to the engine or ML costs
~0.5 ms less than through httpx's own (the engine's `/health`, p50: 0.92 -> 0.45 ms), and a
block's path makes three. Tests still pass their own httpx transports.

    ClientError
    ├── ServiceUnavailable   connect error or timeout: the service is down or too slow
    └── ServiceError         the service answered with an error body (status, code, details)
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import httpx
import orjson
import pydantic_core
from httpx_aiohttp import AiohttpTransport
from pydantic import SecretStr, TypeAdapter

from titan_common.models import (
    IngestPool,
    IngestPoolList,
    IngestPoolV2,
    IngestPoolV3,
    IngestStats,
)


class ClientError(Exception):
    """Base of every failure a service client raises."""


class ServiceUnavailable(ClientError):
    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service} unavailable: {reason}")
        self.service = service
        self.reason = reason


class ServiceError(ClientError):
    def __init__(self, service: str, status: int, code: str, message: str, details: Any) -> None:
        super().__init__(f"{service} answered {status} {code}: {message}")
        self.service = service
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def async_client(
    timeout: float, transport: httpx.AsyncBaseTransport | None = None, **options: Any
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` on aiohttp's connection unless `transport` replaces it; the
    connect timeout at most a second."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 1.0)),
        transport=transport or AiohttpTransport(),
        **options,
    )


class AnswerClock:
    """When a client last had an answer from its peer, whatever the answer: a call answered
    within a probe interval says as much as the probe would."""

    answered_at: float | None = None  # time.monotonic()

    def heard(self) -> None:
        self.answered_at = time.monotonic()

    def answered_within(self, seconds: float) -> bool:
        return self.answered_at is not None and time.monotonic() - self.answered_at < seconds


class ServiceClient(AnswerClock):
    """A JSON client for one service; subclasses add the typed methods."""

    service = "service"

    def __init__(
        self,
        base_url: str,
        timeout: float = 2.0,
        api_key: SecretStr | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"x-api-key": api_key.get_secret_value()} if api_key else {}
        self._http = async_client(timeout, transport, base_url=base_url, headers=headers)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, json: Any = None, params: Any = None) -> Any:
        content, headers = (None, None) if json is None else (_encode(json), _JSON)
        try:
            response = await self._http.request(
                method, path, content=content, params=params, headers=headers
            )
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise ServiceUnavailable(self.service, type(exc).__name__) from exc
        self.heard()
        if response.status_code >= 400:
            raise _service_error(self.service, response)
        # pydantic-core's parser keeps integers past 64 bits exact (orjson would read them as
        # floats) in a third of the stdlib's time: 90 us against 244 us for ML's answer to
        # fifty states.
        return pydantic_core.from_json(response.content)

    async def health(self) -> bool:
        try:
            await self._request("GET", "/health")
        except ClientError:
            return False
        return True


_JSON = {"content-type": "application/json"}


def _encode(body: Any) -> bytes:
    """JSON by orjson: a block's engine batch (every hop's pool state, ticks included) encodes
    in a twentieth of the stdlib's time. Integers past 64 bits, which orjson refuses, go
    through the stdlib."""
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body, separators=(",", ":")).encode()


def _service_error(service: str, response: httpx.Response) -> ServiceError:
    try:
        error = response.json()["error"]
        code, message, details = error["code"], error["message"], error.get("details")
    except (ValueError, KeyError, TypeError):
        code, message, details = "unexpected_response", response.text[:200], None
    return ServiceError(service, response.status_code, code, message, details)


class EngineClient(ServiceClient):
    service = "engine"

    async def evaluate_routes(self, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._request("POST", "/api/routes/evaluate", body)
        return result

    async def pool(self, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._request("POST", "/api/pool", body)
        return result


class MlClient(ServiceClient):
    service = "ml"

    async def forecast_gas(
        self, chain_id: int, horizon: int = 1, block_number: int | None = None
    ) -> dict[str, Any]:
        """`block_number`: the block being priced; the forecast's history reaches it."""
        body: dict[str, Any] = {"chain_id": chain_id, "horizon": horizon}
        if block_number is not None:
            body["block_number"] = block_number
        result: dict[str, Any] = await self._request("POST", "/api/forecast/gas", body)
        return result

    async def rl_actions(
        self, states: list[dict[str, Any]], q_values: bool = True
    ) -> list[dict[str, Any]]:
        """The batch form: one request for many states, answers in the same order; without
        `q_values`, each answer leaves them out."""
        request = {"states": states, "q_values": q_values}
        body = await self._request("POST", "/api/rl/action/batch", request)
        actions: list[dict[str, Any]] = body["actions"]
        return actions


class IngestClient(ServiceClient):
    """Ingest's REST API: pool states with their versions, and the sync's figures."""

    service = "ingest"

    async def pools(
        self,
        pool: Sequence[str] = (),
        token: Sequence[str] = (),
        dex: Sequence[str] = (),
    ) -> IngestPoolList:
        """Every pool (or those matching the filters), at the block of its last event."""
        params = {k: list(v) for k, v in (("pool", pool), ("token", token), ("dex", dex)) if v}
        body = await self._request("GET", "/api/pools", params=params)
        return IngestPoolList.model_validate(body)

    async def pool(self, address: str) -> IngestPoolV2 | IngestPoolV3:
        """One pool; `ServiceError` with status 404 (`not_found`) when ingest does not follow
        it, 422 (`invalid_address`) when `address` is not one."""
        body = await self._request("GET", f"/api/pools/{address}")
        return _INGEST_POOL.validate_python(body)

    async def stats(self) -> IngestStats:
        return IngestStats.model_validate(await self._request("GET", "/api/stats"))


_INGEST_POOL: TypeAdapter[IngestPoolV2 | IngestPoolV3] = TypeAdapter(IngestPool)
