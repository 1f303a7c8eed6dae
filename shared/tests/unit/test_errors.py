"""Every error a FastAPI app raises answers in the one JSON shape, with a fitting status."""

import asyncio
import gc
import time

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, SecretStr

from titan_common.errors import (
    InvalidInputError,
    NotFoundError,
    UpstreamUnavailableError,
    install_error_handlers,
)
from titan_common.models import BigInt
from titan_common.observability import install_observability


class Body(BaseModel):
    amount: BigInt


def make_app(api_key: SecretStr | None = None) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_observability(app, "test", api_key=api_key)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/echo")
    async def echo(body: Body) -> Body:
        return body

    @app.get("/missing")
    async def missing() -> None:
        raise NotFoundError("no such pool", {"pool": "0x1"})

    @app.get("/bad")
    async def bad() -> None:
        raise InvalidInputError("horizon out of range", code="horizon_out_of_range")

    @app.get("/down")
    async def down() -> None:
        raise UpstreamUnavailableError("engine")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    return app


@pytest.fixture
async def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    return error


async def test_big_int_body_round_trips_as_string(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", json={"amount": str(2**255)})
    assert response.json() == {"amount": str(2**255)}
    assert response.headers["x-request-id"]


async def test_validation_failure_names_the_field(client: httpx.AsyncClient) -> None:
    error = assert_error(
        await client.post("/echo", json={"amount": "-3"}), 422, "validation_failed"
    )
    assert error["details"]["fields"][0]["field"] == "body.amount"


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/echo", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "malformed_json")


async def test_domain_errors_keep_their_code_and_status(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/missing"), 404, "not_found")
    assert_error(await client.get("/bad"), 422, "horizon_out_of_range")
    response = await client.get("/down")
    assert_error(response, 503, "upstream_unavailable")
    assert response.headers["retry-after"] == "1"


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/nope"), 404, "not_found")
    assert_error(await client.get("/echo"), 405, "method_not_allowed")


async def test_unexpected_error_is_generic_500_with_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom", headers={"x-request-id": "req-42"})
    error = assert_error(response, 500, "internal_error")
    assert "secret" not in response.text
    assert error["details"]["request_id"] == "req-42"
    metrics = (await client.get("/metrics")).text
    assert 'method="GET",route="/boom",service="test",status="500"' in metrics


async def test_api_key_required_when_set_but_health_stays_open() -> None:
    app = make_app(api_key=SecretStr("s3cret"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.get("/health")).status_code == 200
        assert_error(await c.get("/metrics"), 401, "unauthorized")
        assert_error(await c.get("/metrics", headers={"x-api-key": "wrong"}), 401, "unauthorized")
        response = await c.get("/metrics", headers={"x-api-key": "s3cret"})
        assert response.status_code == 200
        assert "http_request_duration_seconds" in response.text
        assert "s3cret" not in response.text


async def test_event_loop_lag_is_measured_while_the_app_runs() -> None:
    """A handler that holds the loop for 0.3 s shows as lag: the sampler's timer ran late."""
    app = make_app()

    @app.get("/hold")
    async def hold() -> dict[str, bool]:
        time.sleep(0.3)  # noqa: ASYNC251 -- blocking on purpose: the loop can run nothing else
        return {"held": True}

    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        await asyncio.sleep(0.12)  # a few samples of an idle loop
        assert (await c.get("/hold")).status_code == 200
        await asyncio.sleep(0.06)
        metrics = (await c.get("/metrics")).text
    count = _sample(metrics, 'event_loop_lag_seconds_count{service="test"}')
    late = _sample(metrics, 'event_loop_lag_seconds_bucket{le="0.1",service="test"}')
    assert count >= 3
    assert late <= count - 1  # the held sample is past 0.1 s
    assert _sample(metrics, 'event_loop_lag_seconds_sum{service="test"}') >= 0.2


async def test_gc_pauses_are_timed_while_the_app_runs() -> None:
    """A full collection over a heap of cycles shows under generation 2, and only while the
    app's lifespan runs (the callback is removed after)."""
    app = make_app()
    transport = httpx.ASGITransport(app=app)
    callbacks = len(gc.callbacks)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        assert len(gc.callbacks) == callbacks + 1
        heap = [[] for _ in range(200_000)]
        for item in heap:
            item.append(item)  # cycles: only the collector frees them
        del heap
        gc.collect()
        metrics = (await c.get("/metrics")).text
    assert _sample(metrics, 'gc_pause_seconds_count{generation="2",service="test"}') >= 1
    assert _sample(metrics, 'gc_pause_seconds_sum{generation="2",service="test"}') > 0.0
    assert len(gc.callbacks) == callbacks


def _sample(metrics: str, name: str) -> float:
    line = next(line for line in metrics.splitlines() if line.startswith(name + " "))
    return float(line.rsplit(" ", 1)[1])
