"""titan_common's ASGI middleware on a real uvicorn server: API key (HTTP and WebSocket, refused
before the upgrade), request ids, body and WebSocket message limits, and shedding past the
in-flight limit with 503 + Retry-After."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, SecretStr
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from titan_common.errors import install_error_handlers
from titan_common.limits import Limits
from titan_common.observability import install_observability

KEY = "k-7f3e9a"


class Body(BaseModel):
    items: list[int]


def make_app(api_key: str | None = None, **limits: Any) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_observability(
        app,
        "test",
        api_key=SecretStr(api_key) if api_key else None,
        limits=Limits(**limits),
    )

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(0.5)
        return {"status": "done"}

    @app.post("/items")
    async def items(body: Body) -> dict[str, int]:
        return {"count": len(body.items)}

    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                await websocket.send_text(await websocket.receive_text())

    return app


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code and error["message"] and isinstance(error["details"], dict)
    return error


async def test_api_key_guards_http_and_websocket_but_not_health() -> None:
    async with serve(make_app(api_key=KEY)) as host, httpx.AsyncClient() as http:
        assert (await http.get(f"http://{host}/health")).status_code == 200
        assert_error(await http.get(f"http://{host}/slow"), 401, "unauthorized")
        wrong = await http.get(f"http://{host}/metrics", headers={"x-api-key": KEY + "x"})
        assert_error(wrong, 401, "unauthorized")
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://{host}/ws"):
                pass
        assert refused.value.response.status_code == 401
        assert json.loads(refused.value.response.body)["error"]["code"] == "unauthorized"
        async with connect(f"ws://{host}/ws", additional_headers={"x-api-key": KEY}) as ws:
            await ws.send("hi")
            assert await ws.recv() == "hi"
            assert ws.response.headers["x-request-id"]
        # browsers cannot set WebSocket headers: the query parameter works for WebSockets only
        async with connect(f"ws://{host}/ws?api_key={KEY}") as ws:
            await ws.send("hi")
            assert await ws.recv() == "hi"
        assert_error(await http.get(f"http://{host}/slow?api_key={KEY}"), 401, "unauthorized")
        metrics = await http.get(f"http://{host}/metrics", headers={"x-api-key": KEY})
        assert 'method="WS",route="/ws",service="test",status="101"' in metrics.text
        assert 'method="WS",route="unmatched",service="test",status="401"' in metrics.text
        assert KEY not in metrics.text


async def test_request_id_is_echoed_or_made() -> None:
    async with serve(make_app()) as host, httpx.AsyncClient() as http:
        given = await http.get(f"http://{host}/health", headers={"x-request-id": "req-1"})
        assert given.headers["x-request-id"] == "req-1"
        made = await http.get(f"http://{host}/nope")
        assert len(made.headers["x-request-id"]) == 32


async def test_body_over_the_limit_is_413_declared_or_streamed() -> None:
    async with serve(make_app(max_body_bytes=1000)) as host, httpx.AsyncClient() as http:
        url = f"http://{host}/items"
        assert (await http.post(url, json={"items": [1] * 100})).json() == {"count": 100}
        error = assert_error(await http.post(url, json={"items": [1] * 1000}), 413,
                             "payload_too_large")  # fmt: skip
        assert "1000" in error["message"]

        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"items": ['
            for _ in range(500):
                yield b"1,"
            yield b"1]}"

        streamed = await http.post(
            url, content=chunks(), headers={"content-type": "application/json"}
        )
        assert "content-length" not in streamed.request.headers
        assert_error(streamed, 413, "payload_too_large")


async def test_websocket_messages_too_big_or_too_fast_close_the_connection() -> None:
    app = make_app(ws_max_message_bytes=100, ws_max_message_rate=5.0)
    async with serve(app) as host:
        async with connect(f"ws://{host}/ws") as ws:
            await ws.send("x" * 100)
            assert await ws.recv() == "x" * 100
            await ws.send("x" * 101)
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        async with connect(f"ws://{host}/ws") as ws:
            with pytest.raises(ConnectionClosed) as closed:
                for _ in range(50):  # a burst of 10 is allowed at 5 a second
                    await ws.send("y")
                    await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert closed.value.rcvd.reason == "too many messages"


async def test_past_the_in_flight_limit_requests_are_shed_with_retry_after() -> None:
    async with (
        serve(make_app(max_in_flight=4)) as host,
        httpx.AsyncClient(limits=httpx.Limits(max_connections=50), timeout=10) as http,
    ):
        slow = [http.get(f"http://{host}/slow") for _ in range(20)]
        health = asyncio.create_task(_health_while_busy(http, host))
        responses = await asyncio.gather(*slow)
        assert (await health) == 200
    statuses = [r.status_code for r in responses]
    assert set(statuses) == {200, 503}, statuses
    assert 4 <= statuses.count(200) < 20
    for r in responses:
        if r.status_code == 503:
            assert_error(r, 503, "overloaded")
            assert r.headers["retry-after"] == "1"


async def _health_while_busy(http: httpx.AsyncClient, host: str) -> int:
    await asyncio.sleep(0.2)
    return (await http.get(f"http://{host}/health")).status_code
