"""`WS /ws/opportunities`: the recent opportunities, then every new one and verification.

Messages (JSON text): `{"type": "snapshot", "data": [Opportunity...]}` once on connect, then
`{"type": "opportunity", "data": Opportunity}` and
`{"type": "verification", "id": "...", "data": Verification}`. A client too slow to keep up
is closed with code 1008 and the reason "too slow: dropped".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from titan_common.models import Opportunity
from titan_scanner.api.deps import ws_runtime
from titan_scanner.pipeline.publish import Subscriber

router = APIRouter()


@router.websocket("/ws/opportunities")
async def opportunities(websocket: WebSocket) -> None:
    # The API key was checked before the upgrade, by titan_common's middleware.
    rt = ws_runtime(websocket)
    await websocket.accept()
    if rt is None:
        await websocket.close(code=1013, reason="the scanner is starting")
        return
    publisher = rt.scanner.publisher
    subscriber = publisher.subscribe()
    sender = asyncio.create_task(_send(websocket, subscriber, publisher.recent))
    receiver = asyncio.create_task(_until_closed(websocket))
    try:
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        publisher.unsubscribe(subscriber)
        for task in (sender, receiver):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await websocket.close()


async def _send(websocket: WebSocket, subscriber: Subscriber, recent: deque[Opportunity]) -> None:
    snapshot = [o.model_dump(mode="json") for o in list(recent)]
    await websocket.send_text(orjson.dumps({"type": "snapshot", "data": snapshot}).decode())
    while True:
        message = await subscriber.queue.get()
        if message is None:
            await websocket.close(code=1008, reason="too slow: dropped")
            return
        await websocket.send_text(message.decode())


async def _until_closed(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await websocket.receive_text()
