"""Pools created after ingest started: followed from their factory's creation log, exactly.

A new V2 pair (through the real router and factory) and a new V3 pool (through the real
position manager) appear while ingest runs; each gets liquidity and a swap. They must show up
in `GET /api/pools` and on `WS /ws/pools` (each block closed by its marker), with the chain's
exact state. The V3 pool's creation, mint and swap come in blocks of their own, or all in its
creation block (ingest builds a new pool from the logs after its creation log).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import TypeAdapter
from websockets.asyncio.client import connect

from titan_common.clients import IngestClient
from titan_common.models import BlockComplete, IngestMessage, PoolUpdate
from titan_ingest.app import create_app
from titan_ingest.settings import IngestSettings
from titan_ingest.sync.pipeline import IngestPipeline

pytestmark = [pytest.mark.devnet]

MESSAGE: TypeAdapter[PoolUpdate | BlockComplete] = TypeAdapter(IngestMessage)


@pytest.mark.parametrize("one_block", [False, True], ids=["own-blocks", "one-block"])
async def test_pools_created_after_the_start_are_followed_exactly(
    one_block: bool,
    reverted: Any,
    devnet_settings: Callable[..., IngestSettings],
    serve: Callable[..., Any],
    oracle: Any,
) -> None:
    chain = reverted
    app = create_app(devnet_settings())
    pipeline: IngestPipeline = app.state.pipeline
    known = len(chain.manifest["pools"])
    async with serve(app) as host:
        client = IngestClient(f"http://{host}")
        try:
            async with asyncio.timeout(60):
                await pipeline.wait_synced()
            async with connect(f"ws://{host}/ws/pools", max_size=None) as ws:
                for _ in range(known):
                    PoolUpdate.model_validate_json(await ws.recv())
                BlockComplete.model_validate_json(await ws.recv())
                v2 = await asyncio.to_thread(chain.new_v2_pair, "sushiswap")
                v3 = await asyncio.to_thread(chain.new_v3_pool, one_block)
                block, frozen = await oracle.settle(pipeline)
                streamed = await _stream_until(ws, block)
            listed = await client.pools(pool=[v2, v3])
            stats = await client.stats()
        finally:
            await client.aclose()

    # The REST view and the stream both carry the new pools, at the chain's exact state.
    truth = {e.meta.address: e for e in await oracle.state_at(pipeline.metas, block)}
    assert {p.address for p in listed.pools} == {v2, v3}
    for pool in listed.pools:
        state = pool.model_dump(mode="json", exclude={"block_number", "log_index"})
        assert state == truth[pool.address].state_wire(), pool.address
        assert streamed[pool.address].pool.model_dump(mode="json") == state
    assert listed.pools[0].block_number <= block
    assert stats.pools_created == 2 and stats.pools == known + 2
    # Every other pool is still exact too, and nothing was applied twice or out of order.
    pools, fields, diffs = await oracle.differences(pipeline, block, frozen)
    print(f"new pools {v2} {v3}; compared {pools} pools, {fields} fields at block {block}")
    assert pools == known + 2 and not diffs, diffs[:10]
    assert pipeline.stats.events_stale == 0


async def _stream_until(ws: Any, block: int) -> dict[str, PoolUpdate]:
    """The newest update of each pool on the stream until the marker of `block`; checks that
    no update comes for a block whose marker went out before it."""
    latest: dict[str, PoolUpdate] = {}
    marked = -1
    async with asyncio.timeout(30):
        while marked < block:
            message = MESSAGE.validate_json(await ws.recv())
            if isinstance(message, BlockComplete):
                marked = message.block_number
            else:
                assert message.block_number > marked
                latest[message.pool.address] = message
    return latest
