"""`WS /ws/pools`: every pool's state as a `PoolUpdate`, then every update as it happens,
each block closed by a `BlockComplete` marker (one follows the first snapshot too).

Filters are the query parameters of `GET /api/pools`; a malformed one is refused with the
JSON error body (HTTP 422) before the upgrade. A client that falls more than
`INGEST_CLIENT_QUEUE_SIZE` updates behind is closed with code 1013 and the reason.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from titan_common.errors import TitanError, error_body
from titan_ingest.api.filters import parse_filter
from titan_ingest.publish.hub import SLOW_CLIENT_CODE, Subscriber
from titan_ingest.sync.pipeline import IngestPipeline

router = APIRouter()


@router.websocket("/ws/pools")
async def pools_stream(websocket: WebSocket) -> None:
    pipeline: IngestPipeline = websocket.app.state.pipeline
    params = websocket.query_params
    try:
        wanted = parse_filter(
            params.getlist("pool"), params.getlist("token"), params.getlist("dex")
        )
    except TitanError as err:
        await websocket.send_denial_response(
            JSONResponse(error_body(err.code, err.message, err.details), err.status)
        )
        return
    await websocket.accept()
    hub = pipeline.hub
    store = pipeline.store
    complete = (store.complete, store.block_hash(store.complete)) if store.ready else None
    subscriber = hub.subscribe(wanted, list(store.pools.values()), complete)
    sender = asyncio.create_task(_send(websocket, subscriber))
    receiver = asyncio.create_task(_drain(websocket))
    dropped = asyncio.create_task(subscriber.wake.wait())
    try:
        await asyncio.wait({sender, receiver, dropped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        hub.unsubscribe(subscriber)
        for task in (sender, receiver, dropped):
            task.cancel()
        await asyncio.gather(sender, receiver, dropped, return_exceptions=True)
    if subscriber.dropped is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                websocket.close(SLOW_CLIENT_CODE, subscriber.dropped[:120]), timeout=2
            )


async def _send(websocket: WebSocket, subscriber: Subscriber) -> None:
    for payload in subscriber.backlog:
        await websocket.send_text(payload)
    subscriber.backlog = []
    while True:
        await websocket.send_text(await subscriber.queue.get())


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, to notice when it goes away."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
