"""Fixtures shared by ingest's tests: a real uvicorn server on port 0 for an app."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI


@contextlib.asynccontextmanager
async def _serve(app: FastAPI) -> AsyncIterator[str]:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", ws="websockets-sansio", lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests build their settings themselves and never inherit a developer's environment."""
    prefixes = ("INGEST_", "CHAIN_", "DEVNET_", "TITAN_", "USE_", "REAL_DATA_", "LOG_")
    for name in list(os.environ):
        if name.startswith(prefixes):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TITAN_CONFIG_FILE", os.devnull)


@pytest.fixture
def serve() -> Callable[[FastAPI], Any]:
    """`async with serve(app) as host:` runs `app` on a free port; `host` is `127.0.0.1:N`."""
    return _serve


class TcpProxy:
    """A TCP proxy in front of the node that a test can cut: `cut()` drops every connection
    and refuses new ones until `restore()`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.refusing = False
        self.accepted = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> TcpProxy:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            writer.close()
            return
        self.accepted += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        pipes = [
            asyncio.create_task(self._pipe(reader, up_writer)),
            asyncio.create_task(self._pipe(up_reader, writer)),
        ]
        self._tasks.update(pipes)
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for task in pipes:
            task.cancel()
        for w in (writer, up_writer):
            self._writers.discard(w)
            w.close()
        self._tasks.difference_update(pipes)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    def cut(self) -> None:
        self.refusing = True
        for writer in list(self._writers):
            transport = writer.transport
            transport.abort()  # no close handshake: like a dropped network

    def restore(self) -> None:
        self.refusing = False

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()  # stop accepting first: clients may keep retrying
        self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.server.wait_closed(), 2)


@pytest.fixture
def tcp_proxy() -> Callable[[str, int], Any]:
    """`async with tcp_proxy(host, port) as proxy:` a cuttable proxy on `proxy.port`."""

    @contextlib.asynccontextmanager
    async def make(host: str, port: int) -> AsyncIterator[TcpProxy]:
        proxy = await TcpProxy(host, port).start()
        try:
            yield proxy
        finally:
            await proxy.close()

    return make
