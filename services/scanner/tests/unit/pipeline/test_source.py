"""The ingest stream: message shapes, backoff, and reconnection with resync over a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import websockets

from titan_common.models import PoolUpdate
from titan_scanner.pipeline.source import IngestSource, parse_message
from titan_scanner.testing import wait_for


def _update(pools: Any, block: int) -> dict[str, Any]:
    state = pools.v2(pools.token(0), pools.token(1), 10**18, 10**18)
    return PoolUpdate(chain_id=31337, pool=state, block_number=block, log_index=0).model_dump(
        mode="json"
    )


def test_message_shapes(pools: Any) -> None:
    one = _update(pools, 1)
    assert len(list(parse_message(json.dumps(one)))) == 1
    assert len(list(parse_message(json.dumps([one, one])))) == 2
    assert len(list(parse_message(json.dumps({"type": "snapshot", "pools": [one, one]})))) == 2
    assert len(list(parse_message(json.dumps({"type": "update", "data": one})))) == 1
    assert list(parse_message(json.dumps({"type": "heartbeat"}))) == []


def test_backoff_is_bounded_and_jittered() -> None:
    source = IngestSource("ws://x", lambda u: None, min_backoff=0.1, max_backoff=2.0)
    delays = [source.backoff(a) for a in range(12)]
    assert all(0.05 <= d <= 2.0 for d in delays)
    assert delays[-1] >= 1.0
    assert len({source.backoff(3) for _ in range(20)}) > 1


async def test_reconnects_and_resyncs(pools: Any) -> None:
    """The server sends a snapshot, a malformed message and closes; the source comes back."""
    sent = [0]

    async def handler(ws: Any) -> None:
        sent[0] += 1
        await ws.send(json.dumps({"type": "snapshot", "pools": [_update(pools, sent[0])]}))
        await ws.send("not json")
        await ws.close()

    received: list[PoolUpdate] = []
    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        lost = [0]
        source = IngestSource(
            f"ws://127.0.0.1:{port}",
            received.append,
            0.01,
            0.05,
            on_disconnect=lambda: lost.__setitem__(0, lost[0] + 1),
        )
        task = asyncio.create_task(source.run())
        try:
            await wait_for(lambda: source.connects >= 3)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert len(received) >= 3 and source.malformed >= 3
    assert lost[0] >= 2  # told of every lost connection
    assert [u.block_number for u in received[:3]] == [1, 2, 3]


async def test_refusal_is_fatal() -> None:
    async def handler(ws: Any) -> None:
        await ws.close()

    def refuse(connection: Any, request: Any) -> Any:
        return connection.respond(401, "no key\n")

    async with websockets.serve(handler, "127.0.0.1", 0, process_request=refuse) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        source = IngestSource(f"ws://127.0.0.1:{port}", lambda u: None, 0.01, 0.05)
        await asyncio.wait_for(source.run(), 5)
    assert source.fatal is not None and "401" in source.fatal
