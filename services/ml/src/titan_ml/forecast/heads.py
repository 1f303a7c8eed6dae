"""Fee history brought to each new block as it arrives, before anyone asks for a forecast.

The scanner asks for the next block's gas forecast when a block's first pool update reaches
it, and waits for the answer before it publishes. Fetched on that request, the block's fee
history put an `eth_feeHistory` round trip and the request's own way through two event loops
(~4 ms at 1,104 pools on the devnet) on every block's path; followed from the chain's
`newHeads`, it is in hand by then, and so is the forecast made from it (`on_history`).
Without a WebSocket (down, refused, not configured) forecasts fetch on request as before,
and the follower tries again with a growing pause.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import websockets

from titan_common.jsonrpc import ChainError
from titan_common.logging import get_logger
from titan_common.redaction import redact_url
from titan_ml.forecast.collect import FeeHistorySource
from titan_ml.forecast.history import FeeHistory

_log = get_logger("ml.heads")

RETRY_S = 0.5
RETRY_MAX_S = 10.0


class HeadFollower:
    def __init__(
        self,
        ws_url: str,
        source: FeeHistorySource,
        on_history: Callable[[FeeHistory], None] | None = None,
    ) -> None:
        self.ws_url = ws_url
        self.source = source
        self.on_history = on_history  # given each block's history (to make its forecast)
        self.connected = False
        self.heads = 0  # heads received since start
        self.refreshed = 0  # of which brought the fee history up to their block
        self.last_error: str | None = None

    async def run(self) -> None:
        pause = RETRY_S
        while True:
            try:
                await self._follow()
                pause = RETRY_S  # the node closed a working subscription: reconnect at once
            except (OSError, websockets.WebSocketException, ValueError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"[:200]
                log = _log.warning if self.connected or self.heads == 0 else _log.info
                log("ml.heads.lost", url=redact_url(self.ws_url), reason=self.last_error)
            finally:
                self.connected = False
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MAX_S)

    async def _follow(self) -> None:
        async with websockets.connect(self.ws_url, max_size=2**22) as ws:
            subscribe = {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe"}
            await ws.send(json.dumps({**subscribe, "params": ["newHeads"]}))
            answer = json.loads(await ws.recv())
            if not isinstance(answer, dict) or "result" not in answer:
                raise ValueError(f"eth_subscribe newHeads refused: {answer}"[:200])
            self.connected = True
            _log.info("ml.heads.following", url=redact_url(self.ws_url))
            async for raw in ws:
                number = _head_number(json.loads(raw))
                if number is not None:
                    self.heads += 1
                    await self._refresh(number)

    async def _refresh(self, number: int) -> None:
        try:
            history = await self.source.latest(number)
            self.refreshed += 1
        except ChainError as exc:  # the request path fetches again, and says so if it fails
            _log.info("ml.heads.refresh_failed", block_number=number, reason=str(exc)[:200])
            return
        if self.on_history is not None:
            try:
                self.on_history(history)
            except Exception as exc:  # made on request instead, which says what is wrong
                _log.warning("ml.heads.forecast_failed", block_number=number, reason=str(exc)[:200])


def _head_number(message: Any) -> int | None:
    """The block number of a `newHeads` notification, None for any other message."""
    if not isinstance(message, dict) or message.get("method") != "eth_subscription":
        return None
    params = message.get("params")
    head = params.get("result") if isinstance(params, dict) else None
    try:
        return int(head["number"], 16) if isinstance(head, dict) else None
    except (KeyError, TypeError, ValueError):
        return None
