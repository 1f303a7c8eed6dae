"""A block is priced when it is complete: on ingest's block marker, not on a quiet moment.

A stand-in ingest on a real socket sends a block's logs in two frames with a pause between
(as a loaded ingest or network does); the scanner under test reads it through its real
source. Without the marker, a batch closed by time prices the block with the first frame
only (the old race, reproduced here with the fallback timeout); with it, once and complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import websockets

from titan_common.models import BlockComplete, PoolStateV2, PoolUpdate
from titan_scanner.pipeline.source import IngestSource
from titan_scanner.testing import get_amount_out, wait_for

PAUSE = 0.2  # between a block's two frames; far above any quiet-time coalescing


def _update(state: PoolStateV2, block: int, log_index: int) -> str:
    update = PoolUpdate(chain_id=31337, pool=state, block_number=block, log_index=log_index)
    return update.model_dump_json()


def _marker(block: int) -> str:
    return BlockComplete(chain_id=31337, block_number=block).model_dump_json()


@contextlib.asynccontextmanager
async def _ingest(frames: list[str | float]) -> AsyncIterator[str]:
    """A stand-in ingest on a free port: sends `frames` (a float: a pause) to its client."""

    async def handler(ws: Any) -> None:
        for frame in frames:
            if isinstance(frame, float):
                await asyncio.sleep(frame)
            else:
                await ws.send(frame)
        await ws.wait_closed()

    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


@contextlib.asynccontextmanager
async def _connected(service: Any, url: str) -> AsyncIterator[IngestSource]:
    scanner = service.runtime.scanner
    source = IngestSource(url, scanner.on_update, 0.01, 0.05, on_block=scanner.on_block)
    task = asyncio.create_task(source.run())
    try:
        yield source
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _block_of_two_frames(service: Any, marker: bool) -> tuple[list[str | float], PoolStateV2]:
    """Two pools at one price (block 10), then block 11 moves both, in two frames: the second
    move widens the divergence the first opened. Returns the frames and the dearer pool's
    final state."""
    weth, usdc = service.weth, service.usdc
    cheap = service.pools.v2(weth, usdc, 100 * 10**18, 200_000 * 10**6)
    dear = service.pools.v2(weth, usdc, 100 * 10**18, 200_000 * 10**6, dex="sushiswap")
    usdc_is_1 = cheap.token1 == usdc
    field = "reserve1" if usdc_is_1 else "reserve0"
    cheap_11 = cheap.model_copy(update={field: 190_000 * 10**6})
    dear_11 = dear.model_copy(update={field: 215_000 * 10**6})
    frames: list[str | float] = [_update(cheap, 10, 0), _update(dear, 10, 1), _marker(10)]
    frames += [_update(cheap_11, 11, 0), PAUSE, _update(dear_11, 11, 1), _marker(11)]
    if not marker:
        frames = [f for f in frames if isinstance(f, float) or '"type":"block"' not in f]
    return frames, dear_11


def _first_hop_out(opp: Any, dear: PoolStateV2, weth: str) -> int:
    weth_reserve, usdc_reserve = (
        (dear.reserve0, dear.reserve1) if dear.token0 == weth else (dear.reserve1, dear.reserve0)
    )
    return get_amount_out(opp.amount_in, weth_reserve, usdc_reserve, dear.fee_bps)


async def test_block_is_priced_once_on_its_marker_with_every_frame(
    service: Any, fake_engine: Any
) -> None:
    scanner = service.runtime.scanner
    frames, dear_11 = _block_of_two_frames(service, marker=True)
    async with _ingest(frames) as url, _connected(service, url):
        await wait_for(lambda: scanner.stats.blocks_closed.get("marker", 0) >= 2)
        await wait_for(lambda: scanner.stats.published >= 1)
    opps = [o for o in scanner.publisher.recent if o.block_number == 11]
    assert len(opps) == 1
    opp = opps[0]
    assert opp.hops[0].pool == dear_11.address
    # Priced with the second frame's state too: the block as the chain ends it.
    assert opp.hops[0].amount_out == _first_hop_out(opp, dear_11, service.weth)
    assert scanner.stats.blocks_closed == {"marker": 2}
    assert len(fake_engine.batches) == 1  # block 10 has equal prices: only block 11, once


async def test_without_marker_a_timeout_closes_the_block_early_and_is_counted(
    service: Any,
) -> None:
    """An ingest that sends no marker: the fallback timeout (shorter than the pause here)
    closes the block after the first frame, which is exactly the old race."""
    scanner = service.runtime.scanner
    scanner.config = dataclasses.replace(scanner.config, block_timeout=PAUSE / 4)
    frames, dear_11 = _block_of_two_frames(service, marker=False)
    async with _ingest(frames) as url, _connected(service, url):
        await wait_for(lambda: scanner.stats.blocks_closed.get("timeout", 0) >= 2)
        await wait_for(lambda: scanner.stats.published >= 1)
    opps = [o for o in scanner.publisher.recent if o.block_number == 11]
    assert len(opps) == 1
    assert opps[0].hops[0].amount_out != _first_hop_out(opps[0], dear_11, service.weth)
    assert scanner.stats.blocks_closed["timeout"] >= 2
    text = (await service.client.get("/metrics")).text
    assert 'scanner_blocks_closed_total{by="timeout"}' in text


def test_marker_message_shape() -> None:
    marker = json.loads(_marker(12))
    assert marker == {
        "type": "block",
        "chain_id": 31337,
        "block_number": 12,
        "block_hash": None,
        "received_at": None,
    }
