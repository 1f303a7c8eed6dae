"""Live sync against the devnet: state equal to the chain's, through flow, liquidity changes,
a cut WebSocket, reorgs and polling."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from titan_ingest.publish.hub import PoolFilter, Subscriber
from titan_ingest.sync.pipeline import IngestPipeline

pytestmark = [pytest.mark.devnet]

Start = Callable[..., Awaitable[IngestPipeline]]
Compare = Callable[[IngestPipeline], Awaitable[int]]
Logs = Callable[[IngestPipeline, int, int], Awaitable[int]]


async def test_live_state_equals_the_chain_with_the_market_flow_on(
    reverted: Any, ingest: Start, compare: Compare, chain_logs: Logs
) -> None:
    chain = reverted
    pipeline = await ingest()
    await compare(pipeline)  # the snapshot itself
    start = chain.head
    with chain.background_flow() as flow:
        async with asyncio.timeout(60):
            while chain.head < start + 40:  # noqa: ASYNC110 (blocks come from the flow thread)
                await asyncio.sleep(0.1)
    block = await compare(pipeline)
    events = await chain_logs(pipeline, pipeline.store.base + 1, block)
    print(f"{block - start} blocks, {flow.swaps_sent} swaps, {events} pool events on chain")
    assert events > 0 and pipeline.stats.events_applied == events
    assert pipeline.stats.events_stale == 0 and pipeline.stats.malformed_messages == 0


async def test_liquidity_changes_apply_exactly(
    stepped: Any, ingest: Start, compare: Compare, chain_logs: Logs
) -> None:
    chain = stepped
    pipeline = await ingest()
    first, second, last = chain.v3_pools()[0], chain.v3_pools()[1], chain.v3_pools()[-1]
    await asyncio.to_thread(chain.flow_blocks, 3)
    wide = await asyncio.to_thread(chain.mint_position, first, 3)
    kept = await asyncio.to_thread(chain.mint_position, second, 2)
    await compare(pipeline)
    ticks = pipeline.store.pools[first["address"]].ticks
    assert wide.lower in ticks and wide.upper in ticks  # new ticks (or more liquidity there)
    narrow = await asyncio.to_thread(chain.mint_position, last, 1)
    await asyncio.to_thread(chain.burn_position, narrow.token_id)  # its ticks go, if its own
    await asyncio.to_thread(chain.flow_blocks, 8)
    await asyncio.to_thread(chain.burn_position, wide.token_id, 0.5)
    await asyncio.to_thread(chain.flow_blocks, 4)
    await asyncio.to_thread(chain.burn_position, kept.token_id, 0.25)
    block = await compare(pipeline)
    # Every event of the pools since the snapshot applied once: none lost, none twice.
    events = await chain_logs(pipeline, pipeline.store.base + 1, block)
    print(f"{events} pool events on chain, {pipeline.stats.events_applied} applied")
    assert events > 0 and pipeline.stats.events_applied == events
    assert pipeline.stats.events_stale == 0 and pipeline.stats.malformed_messages == 0


async def test_cut_websocket_reconnects_and_backfills(
    stepped: Any,
    ingest: Start,
    compare: Compare,
    chain_logs: Logs,
    tcp_proxy: Callable[..., Any],
) -> None:
    chain = stepped
    host, port = chain.ws_url.removeprefix("ws://").split(":")
    async with tcp_proxy(host, int(port)) as proxy:
        pipeline = await ingest(ws_url=f"ws://127.0.0.1:{proxy.port}", ingest_stall_timeout=2)
        await asyncio.to_thread(chain.flow_blocks, 5)
        proxy.cut()  # mid-stream: no close handshake, like a dropped network
        await asyncio.to_thread(
            chain.flow_blocks, 8
        )  # missed by the stream: polled over HTTP, then backfilled
        proxy.restore()
        await asyncio.to_thread(chain.flow_blocks, 5)
        block = await compare(pipeline)
        assert pipeline.stats.reconnects >= 1
        events = await chain_logs(pipeline, pipeline.store.base + 1, block)
        assert pipeline.stats.events_applied == events  # the gap filled once, nothing twice
        assert pipeline.stats.source_connected and proxy.accepted >= 2
        await pipeline.stop()  # before the proxy goes


def _drained(subscriber: Subscriber) -> list[dict[str, Any]]:
    out = []
    while not subscriber.queue.empty():
        out.append(json.loads(subscriber.queue.get_nowait()))
    return out


@pytest.mark.parametrize("depth", [1, 2, 3])
async def test_reorg_settles_on_the_new_canonical_chain(
    stepped: Any, ingest: Start, compare: Compare, depth: int
) -> None:
    chain = stepped
    pipeline = await ingest()
    await asyncio.to_thread(chain.flow_blocks, 2)
    fork = await asyncio.to_thread(chain.snapshot)
    fork_block = chain.head
    await asyncio.to_thread(
        chain.flow_blocks, depth
    )  # applied by ingest, then dropped by the reorg
    await compare(pipeline)
    reorgs = pipeline.stats.reorgs
    client = pipeline.hub.subscribe(PoolFilter(), [])  # what a WS client gets from here
    await asyncio.to_thread(chain.revert, fork)
    await asyncio.to_thread(
        chain.flow_blocks, depth + 1
    )  # the new canonical branch: different swaps, longer
    head = await compare(pipeline)
    assert pipeline.stats.reorgs > reorgs
    # Every canonical block re-applied is marked, and each update goes out before the marker
    # of its block: after the rollback's updates, nothing unmarked is left behind.
    messages = _drained(client)
    markers = [m["block_number"] for m in messages if m.get("type") == "block"]
    assert set(range(fork_block + 1, head + 1)) <= set(markers) and markers[-1] == head
    assert any(m.get("removed") for m in messages)
    for i, message in enumerate(messages):
        if message.get("type") != "block":
            assert any(
                m.get("type") == "block" and m["block_number"] >= message["block_number"]
                for m in messages[i + 1 :]
            )


async def test_reorg_to_a_shorter_chain(stepped: Any, ingest: Start, compare: Compare) -> None:
    chain = stepped
    pipeline = await ingest()
    fork = await asyncio.to_thread(chain.snapshot)
    await asyncio.to_thread(chain.flow_blocks, 3)
    await compare(pipeline)
    await asyncio.to_thread(chain.revert, fork)
    await asyncio.to_thread(chain.flow_blocks, 1)  # shorter than before: the head goes back
    await compare(pipeline)
    assert pipeline.stats.reorgs >= 1


async def test_polling_gives_the_same_state_as_websocket(
    stepped: Any, ingest: Start, compare: Compare
) -> None:
    chain = stepped
    live = await ingest(ws=True)
    polled = await ingest(ws=False)
    await asyncio.to_thread(chain.flow_blocks, 10)
    await asyncio.to_thread(chain.mint_position, chain.v3_pools()[0], 2)
    await asyncio.to_thread(chain.flow_blocks, 3)
    block = await compare(live)
    assert await compare(polled) >= block
    for address, entry in live.store.pools.items():
        assert polled.store.pools[address].state_wire() == entry.state_wire()
    assert polled.stats.mode == "polling" and polled.stats.catch_ups > 1


async def test_batch_snapshot_equals_helper_snapshot(
    chain: Any, ingest: Start, compare: Compare
) -> None:
    helper = await ingest(ingest_snapshot_method="helper")
    batch = await ingest(ws=False, ingest_snapshot_method="batch")
    await compare(helper)
    await compare(batch)


@pytest.mark.parametrize("depth", [1, 3])
async def test_anvil_reorg_replaces_blocks_at_the_same_height(
    stepped: Any, ingest: Start, compare: Compare, depth: int
) -> None:
    chain = stepped
    pipeline = await ingest()
    await compare(pipeline)
    reorgs = pipeline.stats.reorgs
    swaps = 0
    while swaps == 0:  # the blocks to drop must hold swaps, so that new ones differ
        swaps = await asyncio.to_thread(chain.flow_blocks, depth)
    head = chain.head
    async with asyncio.timeout(30):
        while pipeline.store.head != head:  # noqa: ASYNC110 (applied, not yet settled)
            await asyncio.sleep(0.02)
    # anvil_reorg drops the last `depth` blocks and mines as many new ones (empty here):
    # the same height, other hashes, and the dropped swaps undone.
    await asyncio.to_thread(chain.rpc, "anvil_reorg", depth, [])
    assert chain.head == head
    await compare(pipeline)
    assert pipeline.stats.reorgs > reorgs
