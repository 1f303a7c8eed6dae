"""The source stage: ingest's `WS /ws/pools`, kept connected.

Ingest sends a snapshot of every pool, then every update; a block marker (`BlockComplete`)
follows the snapshot and each block's updates. On a lost connection the source
reconnects with jittered exponential backoff and the new snapshot resynchronises the state
(the state stage drops what it already has). A refusal that retrying cannot fix (a 4xx
other than 429, such as a wrong API key) is fatal and stops the source, loudly.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import structlog
import websockets
from pydantic import ValidationError
from websockets.exceptions import InvalidStatus, WebSocketException

from titan_common.models import BlockComplete, PoolUpdate

_log = structlog.get_logger("scanner.source")


def parse_message(raw: str | bytes) -> Iterator[PoolUpdate | BlockComplete]:
    """Pool updates and block markers in one message: one of them, a list, or an envelope."""
    body: Any = orjson.loads(raw)
    yield from _updates(body)


def _updates(body: Any) -> Iterator[PoolUpdate | BlockComplete]:
    if isinstance(body, list):
        for item in body:
            yield from _updates(item)
    elif isinstance(body, dict):
        if body.get("type") == "block":
            yield BlockComplete.model_validate(body)
            return
        if "pool" in body and "block_number" in body:
            yield PoolUpdate.model_validate(body)
            return
        for key in ("updates", "pools", "data", "snapshot", "update"):
            if key in body:
                yield from _updates(body[key])
                return


def is_fatal(exc: BaseException) -> bool:
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        return 400 <= status < 500 and status != 429
    return False


class IngestSource:
    """Feeds every pool update to `on_update` and every block marker to `on_block`,
    reconnecting until stopped."""

    def __init__(
        self,
        url: str,
        on_update: Callable[[PoolUpdate], None],
        min_backoff: float = 0.1,
        max_backoff: float = 5.0,
        headers: dict[str, str] | None = None,
        on_connect: Callable[[], None] | None = None,
        on_block: Callable[[BlockComplete], None] | None = None,
        on_disconnect: Callable[[], None] | None = None,
    ) -> None:
        self.url = url
        self.on_update = on_update
        self.on_block = on_block
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.headers = headers or {}
        self.connected = False
        self.fatal: str | None = None
        self.last_error: str | None = None
        self.connects = 0
        self.messages = 0
        self.malformed = 0

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.max_backoff, self.min_backoff * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)

    async def run(self) -> None:
        attempt = 0
        while True:
            try:
                async with websockets.connect(
                    self.url, max_size=None, additional_headers=self.headers, open_timeout=5
                ) as ws:
                    self.connected, self.last_error, attempt = True, None, 0
                    self.connects += 1
                    _log.info("scanner.ingest.connected", url=self.url, connects=self.connects)
                    if self.on_connect is not None:
                        self.on_connect()
                    async for raw in ws:
                        self._handle(raw)
                self.last_error = "closed by ingest"
            except asyncio.CancelledError:
                self.connected = False
                raise
            except (OSError, WebSocketException, TimeoutError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"[:200]
                if is_fatal(exc):
                    self.connected, self.fatal = False, self.last_error
                    _log.error("scanner.ingest.refused", reason=self.last_error)
                    return
            if self.connected and self.on_disconnect is not None:
                self.on_disconnect()
            self.connected = False
            delay = self.backoff(attempt)
            attempt += 1
            _log.warning("scanner.ingest.disconnected", reason=self.last_error, retry_in=delay)
            await asyncio.sleep(delay)

    def _handle(self, raw: str | bytes) -> None:
        self.messages += 1
        try:
            updates = list(parse_message(raw))
        except (ValueError, ValidationError) as exc:
            self.malformed += 1
            _log.warning("scanner.ingest.message_rejected", reason=str(exc)[:200])
            return
        for message in updates:
            if isinstance(message, PoolUpdate):
                self.on_update(message)
            elif self.on_block is not None:
                self.on_block(message)
