"""A TCP proxy that holds every answer from its target for a while: the services behind it stay
busy on slow requests, so a test can push them past their in-flight limit."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest


class DelayProxy:
    def __init__(self, target: tuple[str, int], delay: float) -> None:
        self.target, self.delay = target, delay
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> DelayProxy:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        pipes = {
            asyncio.create_task(self._pipe(reader, up_writer, 0.0)),
            asyncio.create_task(self._pipe(up_reader, writer, self.delay)),
        }
        self._tasks |= pipes
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for task in pipes:
            task.cancel()
        for w in (writer, up_writer):
            w.close()
        self._tasks -= pipes

    @staticmethod
    async def _pipe(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
    ) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                await asyncio.sleep(delay)
                writer.write(data)
                await writer.drain()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@pytest.fixture
def delay_proxy() -> Callable[[str, int, float], Any]:
    """`async with delay_proxy(host, port, seconds) as proxy:` answers held `seconds` each."""

    @contextlib.asynccontextmanager
    async def make(host: str, port: int, delay: float) -> AsyncIterator[DelayProxy]:
        proxy = await DelayProxy((host, port), delay).start()
        try:
            yield proxy
        finally:
            await proxy.close()

    return make
