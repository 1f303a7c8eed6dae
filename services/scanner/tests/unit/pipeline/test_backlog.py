"""A decision worker behind: queued batches fold into the newest, and none of the folded
cycles may be priced on a state its pools have left since (even through a block whose own
batch had nothing to evaluate)."""

from __future__ import annotations

from typing import Any

from titan_scanner.testing import wait_for


async def test_folded_batches_never_price_a_pool_that_moved_since(service: Any) -> None:
    scanner = service.runtime.scanner
    weth, usdc, dai = service.weth, service.usdc, service.dai
    cheap = service.pools.v2(weth, usdc, 100 * 10**18, 200_000 * 10**6)
    dear = service.pools.v2(weth, usdc, 100 * 10**18, 220_000 * 10**6, dex="sushiswap")
    dai_a = service.pools.v2(weth, dai, 100 * 10**18, 200_000 * 10**18)
    dai_b = service.pools.v2(weth, dai, 100 * 10**18, 200_000 * 10**18, dex="sushiswap")
    # No await below until the last marker: the worker cannot run, so the batches queue up.
    service.update(dai_a, 9)
    service.update(dai_b, 9, 1)
    service.block(9)
    service.update(cheap, 10)
    service.update(dear, 10, 1)
    service.block(10)  # batch of block 10: the USDC pair diverges
    level = dear.model_copy(update={"reserve1": cheap.reserve1})
    service.update(level, 11)
    service.block(11)  # the divergence is gone; nothing passes the screen, no batch queued
    dai_moved = dai_b.model_copy(update={"reserve1": 230_000 * 10**18})
    service.update(dai_moved, 12)
    service.block(12)  # an unrelated pair diverges
    await wait_for(lambda: scanner.stats.published >= 1)
    await wait_for(lambda: scanner._jobs.empty() and scanner.coalescer.pending is None)
    usdc_pools = {cheap.address, dear.address}
    for opp in scanner.publisher.recent:
        through_usdc = any(h.pool in usdc_pools for h in opp.hops)
        # Block 10's USDC opportunity folded into block 12 would be priced on a state the
        # pair left at block 11: at block 12 its prices are level.
        assert not (through_usdc and opp.block_number >= 11), opp
