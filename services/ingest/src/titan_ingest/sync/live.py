"""The WebSocket source: `eth_subscribe` to newHeads and the pools' logs with web3.py.

Each connection starts with a catch-up request, queued before any of its messages, so the
backfill closes the gap since the last complete block before the stream goes on. When the
followed pools change (a factory created one), the logs subscription is replaced by one with
the new filter; what falls in between is read by each head's completion. A lost connection
is retried with exponential backoff and full jitter, rotating through the endpoints; while
it is down, the source asks for a catch-up every polling interval (the HTTP fallback). A
message from the node that cannot be read is logged and counted, never fatal.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

import orjson
import structlog
from web3 import AsyncWeb3
from web3.exceptions import PersistentConnectionClosedOK
from web3.providers.persistent import WebSocketProvider
from web3.types import LogsSubscriptionArg
from websockets.exceptions import ConnectionClosedOK

from titan_ingest.chain.abi import MalformedLogError
from titan_ingest.chain.rpc import RpcError
from titan_ingest.sync.messages import CatchUpMsg, Message, parse_head, parse_log
from titan_ingest.sync.stats import SyncStats

_log = structlog.get_logger("titan_ingest.live")

Notify = Callable[[Any, Any, float], None]  # (subscription id, result, arrival time)
_EARLY_MAX = 10_000  # notifications kept while their subscription's id is not known yet


class _Provider(WebSocketProvider):
    """web3.py's WebSocket provider, with subscription notifications taken off the socket
    reader and handed to `on_notification` with their arrival time: the hot path skips
    web3.py's subscription queue and result formatters (ingest parses the raw log itself).
    Requests and their answers (eth_subscribe, probes) go through web3.py as usual, but for
    `raw_request`: a request of our own on the same socket, answered raw, for the hot path's
    reads (a block's logs by hash): a tenth of the CPU of a request over HTTP through web3.py
    and httpx. A frame that is not JSON-RPC is counted and skipped, never fatal."""

    def __init__(
        self,
        url: str,
        on_notification: Notify,
        on_malformed: Callable[[str], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(url, **kwargs)
        self._on_notification = on_notification
        self._on_malformed = on_malformed
        self.last_message_at = time.monotonic()
        self._raw: dict[str, asyncio.Future[Any]] = {}  # our requests' ids -> their answers
        self._raw_ids = itertools.count()

    async def raw_request(self, method: str, params: Any) -> Any:
        """Send one JSON-RPC request on the socket; its answer, undecoded (a dict)."""
        if self._ws is None:
            raise ConnectionError("not connected")
        key = f"titan-{next(self._raw_ids)}"
        answer = self._raw[key] = asyncio.get_running_loop().create_future()
        try:
            request = {"jsonrpc": "2.0", "id": key, "method": method, "params": params}
            await self._ws.send(orjson.dumps(request).decode())
            return await answer
        finally:
            self._raw.pop(key, None)

    def fail_raw(self, why: str) -> None:
        """The socket is gone: every request of ours still waiting fails now."""
        for answer in self._raw.values():
            if not answer.done():
                answer.set_exception(ConnectionError(why))

    async def _provider_specific_socket_reader(self) -> Any:
        assert self._ws is not None
        while True:
            try:
                raw = await self._ws.recv()
            except ConnectionClosedOK as exc:
                raise PersistentConnectionClosedOK(user_message="connection closed") from exc
            received_at = time.time()
            self.last_message_at = time.monotonic()
            try:
                message = orjson.loads(raw)
            except orjson.JSONDecodeError:
                self._on_malformed("not JSON")
                continue
            key = message.get("id") if isinstance(message, dict) else None
            if isinstance(key, str) and key in self._raw:
                answer = self._raw.pop(key)
                if not answer.done():
                    answer.set_result(message)
                continue
            if isinstance(message, dict) and message.get("method") == "eth_subscription":
                params = message.get("params")
                if not isinstance(params, dict):
                    self._on_malformed("subscription message without params")
                    continue
                self._on_notification(params.get("subscription"), params.get("result"), received_at)
                continue
            if not isinstance(message, dict | list):
                self._on_malformed("not a JSON-RPC message")
                continue
            return message


def backoff_delay(attempt: int, low: float, high: float) -> float:
    """Exponential backoff with full jitter: uniform in [low, min(high, low * 2^attempt)]."""
    ceiling = min(high, low * (2 ** min(attempt, 30)))
    return random.uniform(low, max(low, ceiling))


class WebSocketSource:
    def __init__(
        self,
        urls: Sequence[str],
        log_filter: Callable[[], dict[str, Any]],
        stats: SyncStats,
        poll_interval: float = 1.0,
        min_delay: float = 0.1,
        max_delay: float = 10.0,
        stall_timeout: float = 15.0,
        request_timeout: float = 10.0,
    ) -> None:
        if not urls:
            raise ValueError("at least one WebSocket URL is needed")
        self.urls = list(urls)
        self.log_filter = log_filter
        self.stats = stats
        self.poll_interval = poll_interval
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.stall_timeout = stall_timeout
        self.request_timeout = request_timeout
        self.connections = 0
        self.resubscribes = 0
        self._refresh = asyncio.Event()
        self._provider: _Provider | None = None  # while connected and subscribed

    async def request(self, method: str, params: Any) -> Any:
        """A JSON-RPC request over the live connection (see `_Provider.raw_request`);
        `ConnectionError` when there is none or it fails, `RpcError` for the node's error."""
        provider = self._provider
        if provider is None:
            raise ConnectionError("the WebSocket is not connected")
        try:
            answer = await asyncio.wait_for(
                provider.raw_request(method, params), self.request_timeout
            )
        except TimeoutError as exc:
            raise ConnectionError(f"{method}: no answer in {self.request_timeout} s") from exc
        if not isinstance(answer, dict) or answer.get("error") is not None:
            raise RpcError(method, answer.get("error") if isinstance(answer, dict) else answer)
        return answer.get("result")

    def refresh(self) -> None:
        """The log filter changed: replace the logs subscription (on the next turn)."""
        self._refresh.set()

    async def run(self, queue: asyncio.Queue[Message]) -> None:
        self.stats.mode = "websocket"
        attempt = 0
        endpoint = 0
        while True:
            url = self.urls[endpoint % len(self.urls)]
            started = time.monotonic()
            try:
                await self._stream(url, queue)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                _log.warning("ingest.ws.disconnected", url=url, error=self.stats.last_error)
            self.stats.source_connected = False
            if time.monotonic() - started > 10 * self.min_delay + 1:
                attempt = 0  # it had been up a while: start the backoff over
            delay = backoff_delay(attempt, self.min_delay, self.max_delay)
            attempt += 1
            endpoint += 1
            await self._fallback(queue, delay)

    async def _fallback(self, queue: asyncio.Queue[Message], delay: float) -> None:
        """Wait `delay` before reconnecting, polling over HTTP meanwhile."""
        deadline = time.monotonic() + delay
        while True:
            if queue.empty():
                queue.put_nowait(CatchUpMsg("fallback", time.time()))
            left = deadline - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(min(left, self.poll_interval))

    async def _stream(self, url: str, queue: asyncio.Queue[Message]) -> None:
        # Notifications can arrive before their subscription's id is known (the answer to
        # eth_subscribe is read first, but handled later): they wait in `early` and are
        # replayed once it is; at the start, after the catch-up request, so that it is
        # handled first.
        ids: dict[Any, str] = {}
        early: list[tuple[Any, Any, float]] = []

        def notify(subscription: Any, result: Any, received_at: float) -> None:
            kind = ids.get(subscription)
            if kind is None:
                if len(early) < _EARLY_MAX:
                    early.append((subscription, result, received_at))
                return
            try:
                if kind == "logs":
                    queue.put_nowait(parse_log(result, received_at))
                else:
                    queue.put_nowait(parse_head(result, received_at))
            except MalformedLogError as exc:
                self._malformed(str(exc))

        def replay() -> None:
            waiting = [item for item in early if item[0] in ids]
            early.clear()
            for subscription, result, received_at in waiting:
                notify(subscription, result, received_at)

        provider = _Provider(
            url,
            notify,
            self._malformed,
            max_connection_retries=1,
            request_timeout=self.request_timeout,
        )
        async with AsyncWeb3(provider) as w3:
            self._refresh.clear()  # this connection subscribes with the filter as it is now
            heads = await w3.eth.subscribe("newHeads")
            logs = await self._subscribe_logs(w3)
            self.connections += 1
            if self.connections > 1:
                self.stats.reconnects += 1
            self.stats.source_connected = True
            self.stats.endpoint = url
            _log.info("ingest.ws.connected", url=url, connections=self.connections)
            # No await from here to the flush: nothing can slip in between.
            queue.put_nowait(CatchUpMsg("connected", time.time()))
            ids.update({heads: "heads", logs: "logs"})
            replay()
            self._provider = provider
            try:
                while await self._watch(w3, provider):
                    logs = await self._resubscribe(w3, ids, logs, replay)
            finally:
                self._provider = None
                provider.fail_raw("the WebSocket connection ended")

    async def _subscribe_logs(self, w3: AsyncWeb3[Any]) -> Any:
        return await w3.eth.subscribe("logs", cast(LogsSubscriptionArg, self.log_filter()))

    async def _resubscribe(
        self, w3: AsyncWeb3[Any], ids: dict[Any, str], old: Any, replay: Callable[[], None]
    ) -> Any:
        """A logs subscription with the current filter in place of `old`. Both run for a
        moment: a log of both is dropped by the pool's version."""
        self._refresh.clear()
        new = await self._subscribe_logs(w3)
        ids[new] = "logs"
        ids.pop(old, None)  # from now on its notifications are the new one's duplicates
        # The new one's notifications that came before its id are queued before any later
        # one (an await here would let later ones overtake them: the pool drops a log
        # older than its version, and the log would be lost).
        replay()
        await w3.eth.unsubscribe(old)
        self.resubscribes += 1
        _log.info("ingest.ws.resubscribed", subscription=str(new))
        return new

    async def _watch(self, w3: AsyncWeb3[Any], provider: _Provider) -> bool:
        """Until the connection ends (False) or the log filter changes (True): probe the node
        when the stream is quiet for long."""
        listener = provider._message_listener_task
        assert listener is not None
        while True:
            refresh = asyncio.ensure_future(self._refresh.wait())
            try:
                done, _ = await asyncio.wait(
                    {listener, refresh},
                    timeout=self.stall_timeout / 3,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                refresh.cancel()
            if listener in done:
                listener.result()  # raises what ended it
                return False  # closed cleanly
            if refresh in done:
                return True
            if time.monotonic() - provider.last_message_at > self.stall_timeout:
                await self._probe(w3)
                provider.last_message_at = time.monotonic()

    async def _probe(self, w3: AsyncWeb3[Any]) -> None:
        """Quiet for a while: fine if the node is alive and has no newer block than we saw."""
        number = await asyncio.wait_for(w3.eth.block_number, self.request_timeout)
        self.stats.last_node_contact = time.time()
        if number > self.stats.node_head:
            raise ConnectionError(f"the stream is stalled: the node is at block {number}")

    def _malformed(self, why: str) -> None:
        self.stats.malformed_messages += 1
        _log.warning("ingest.ws.message_malformed", error=why)
