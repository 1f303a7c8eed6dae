"""The WebSocket source against a fake node: malformed frames and logs are counted and
skipped, never fatal; the catch-up request comes before the connection's first message."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from eth_abi.abi import encode
from websockets.asyncio.server import ServerConnection, serve

from titan_ingest.chain import abi
from titan_ingest.chain.rpc import RpcError
from titan_ingest.sync.live import WebSocketSource
from titan_ingest.sync.messages import CatchUpMsg, HeadMsg, LogMsg, Message
from titan_ingest.sync.stats import SyncStats

POOL = "0x" + "ab" * 20


def _log(data: bytes, topic: bytes = abi.SYNC) -> dict[str, Any]:
    return {
        "address": POOL,
        "topics": ["0x" + topic.hex()],
        "data": "0x" + data.hex(),
        "blockNumber": "0x10",
        "blockHash": "0x" + "cd" * 32,
        "logIndex": "0x0",
        "removed": False,
    }


async def _node(ws: ServerConnection) -> None:
    """Answers eth_subscribe, then sends junk and good notifications alike."""
    ids = iter(["0xheads", "0xlogs"])
    async for raw in ws:
        request = json.loads(raw)
        if request["method"] != "eth_subscribe":
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": "0x10"}))
            continue
        sub = next(ids)
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": sub}))
        if sub != "0xlogs":
            continue

        def note(sub_id: str, result: Any) -> str:
            params = {"subscription": sub_id, "result": result}
            return json.dumps({"jsonrpc": "2.0", "method": "eth_subscription", "params": params})

        await ws.send("this is not json")
        await ws.send(note("0xlogs", _log(b"\x01")))  # data too short for Sync
        await ws.send(note("0xheads", {"number": "0x10"}))  # a head without its hash
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "eth_subscription"}))  # no params
        await ws.send(note("0xlogs", _log(encode(["uint112", "uint112"], [7, 9]))))
        head = {"number": "0x10", "hash": "0x" + "cd" * 32, "parentHash": "0x" + "ef" * 32}
        await ws.send(note("0xheads", head))


async def test_malformed_messages_are_counted_never_fatal() -> None:
    async with serve(_node, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        stats = SyncStats()
        source = WebSocketSource([f"ws://127.0.0.1:{port}"], lambda: {"address": [POOL]}, stats)
        queue: asyncio.Queue[Message] = asyncio.Queue()
        task = asyncio.create_task(source.run(queue))
        try:
            got = [await asyncio.wait_for(queue.get(), 5) for _ in range(3)]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert isinstance(got[0], CatchUpMsg)  # first, before any of the stream
    assert isinstance(got[1], LogMsg) and got[1].event == abi.Sync(7, 9)
    assert isinstance(got[2], HeadMsg) and got[2].header.number == 16
    assert stats.malformed_messages == 4
    assert stats.reconnects == 0 and source.connections == 1


async def test_endpoints_fail_over_to_the_next() -> None:
    async with serve(_node, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        stats = SyncStats()
        dead = "ws://127.0.0.1:9"  # discard port: nothing listens
        source = WebSocketSource(
            [dead, f"ws://127.0.0.1:{port}"], lambda: {"address": [POOL]}, stats, min_delay=0.01
        )
        queue: asyncio.Queue[Message] = asyncio.Queue()
        task = asyncio.create_task(source.run(queue))
        try:
            async with asyncio.timeout(5):
                while not isinstance(await queue.get(), LogMsg):
                    pass
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert stats.endpoint == f"ws://127.0.0.1:{port}"


async def test_requests_over_the_live_socket() -> None:
    """The hot path's reads go over the stream's own socket, answered raw; none without it."""

    async def node(ws: ServerConnection) -> None:
        ids = iter(["0xheads", "0xlogs"])
        async for raw in ws:
            request = json.loads(raw)
            answer: dict[str, Any] = {"jsonrpc": "2.0", "id": request["id"]}
            if request["method"] == "eth_subscribe":
                answer["result"] = next(ids)
            elif request["method"] == "eth_getLogs":
                answer["result"] = [_log(encode(["uint112", "uint112"], [1, 2]))]
            else:
                answer["error"] = {"code": -32601, "message": "no such method"}
            await ws.send(json.dumps(answer))

    source = WebSocketSource(["ws://127.0.0.1:9"], lambda: {"address": [POOL]}, SyncStats())
    with pytest.raises(ConnectionError):
        await source.request("eth_getLogs", [{}])
    async with serve(node, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        source.urls = [f"ws://127.0.0.1:{port}"]
        queue: asyncio.Queue[Message] = asyncio.Queue()
        task = asyncio.create_task(source.run(queue))
        try:
            assert isinstance(await asyncio.wait_for(queue.get(), 5), CatchUpMsg)
            logs = await source.request("eth_getLogs", [{"blockHash": "0x" + "cd" * 32}])
            assert logs[0]["address"] == POOL
            with pytest.raises(RpcError, match="no such method"):
                await source.request("eth_nothing", [])
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
