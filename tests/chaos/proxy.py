"""A TCP proxy that injects faults between two Titan processes: cut every connection, refuse
new ones, or hold each answer for some seconds (toxiproxy's `latency`, written for the tests:
toxiproxy itself is not on the registries this project installs from).

It runs its own event loop on a thread, so a synchronous test drives it with plain calls. It
also watches the caller: when a client hangs up on a request whose answer it has not received,
it notes how long the client waited (`abandoned`), so a test can see a caller's timeout from
outside the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class _Link:
    """One client connection and the upstream connection it is paired with."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    asked_at: float | None = None  # the client's last bytes not answered yet
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class ChaosProxy:
    """`127.0.0.1:port` forwarding to `target`; `cut()`, `restore()`, `delay(seconds)`."""

    def __init__(self, target_host: str, target_port: int, name: str = "proxy") -> None:
        self.target = (target_host, target_port)
        self.name = name
        self.port = 0
        self.accepted = 0
        self.refused = 0
        self.abandoned: list[float] = []  # seconds a client waited before hanging up
        self._delay = 0.0
        self._refusing = False
        self._links: set[_Link] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._server: asyncio.Server | None = None

    # -- control, from any thread ---------------------------------------------------------

    def start(self) -> ChaosProxy:
        self._thread.start()
        self._call(self._start())
        return self

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    def delay(self, seconds: float) -> None:
        """Hold every chunk of every answer this long before passing it on (0: none)."""
        self._delay = seconds

    def cut(self) -> None:
        """Drop every connection without a close handshake (a lost network) and refuse new
        ones until `restore()`."""
        self._refusing = True
        self._call(self._abort_all())

    def restore(self) -> None:
        self._refusing = False
        self._delay = 0.0

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        self._refusing = True
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _call(self, work: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(work, self._loop).result(30)

    # -- the loop's side ------------------------------------------------------------------

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _abort_all(self) -> None:
        for link in list(self._links):
            link.client.transport.abort()
            link.upstream.transport.abort()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._abort_all()
        tasks = [t for link in self._links for t in link.tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusing:
            self.refused += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:  # the target is down: the client sees its connection dropped
            self.refused += 1
            writer.transport.abort()
            return
        self.accepted += 1
        link = _Link(writer, up_writer)
        self._links.add(link)
        answers: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        link.tasks = [
            asyncio.create_task(self._requests(reader, link)),
            asyncio.create_task(self._answers_in(up_reader, answers)),
            asyncio.create_task(self._answers_out(answers, link)),
        ]
        await asyncio.wait(link.tasks, return_when=asyncio.FIRST_COMPLETED)
        if link.tasks[0].done() and link.asked_at is not None:  # hung up while waiting
            self.abandoned.append(time.monotonic() - link.asked_at)
        for task in link.tasks:
            task.cancel()
        for w in (writer, up_writer):
            w.transport.abort()
        self._links.discard(link)

    async def _requests(self, reader: asyncio.StreamReader, link: _Link) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                if link.asked_at is None:
                    link.asked_at = time.monotonic()
                link.upstream.write(data)
                await link.upstream.drain()

    async def _answers_in(
        self, reader: asyncio.StreamReader, answers: asyncio.Queue[tuple[float, bytes]]
    ) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                answers.put_nowait((time.monotonic() + self._delay, data))
        # Upstream closed: what it sent still goes out, in order, after its delay.
        await answers.join()

    async def _answers_out(self, answers: asyncio.Queue[tuple[float, bytes]], link: _Link) -> None:
        with contextlib.suppress(OSError):
            while True:
                due, data = await answers.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                link.client.write(data)
                await link.client.drain()
                link.asked_at = None  # answered (the first bytes of it)
                answers.task_done()
