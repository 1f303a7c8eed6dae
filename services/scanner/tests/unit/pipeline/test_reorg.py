"""Reorgs: opportunities of replaced blocks are orphaned; a rollback takes the open batch back.

ForkWatch alone, then the pipeline in process fed as ingest feeds it during a reorg: the
rolled-back states (`removed`), the new branch's states, its markers with their hashes.
"""

from __future__ import annotations

from typing import Any

from titan_scanner.pipeline.reorg import ForkWatch
from titan_scanner.testing import wait_for


def _hash(block: int, branch: str = "a") -> str:
    return "0x" + f"{branch}{block:x}".rjust(64, "0")


def test_markers_of_one_chain_orphan_nothing() -> None:
    forks = ForkWatch()
    for block in range(10, 20):
        forks.note(block, f"opp-{block}")
        assert forks.on_marker(block, _hash(block)) == []
    assert forks.on_marker(19, _hash(19)) == []  # the same marker again
    assert forks.reorgs == 0 and forks.top == 19


def test_another_hash_orphans_that_block_and_every_later_one() -> None:
    forks = ForkWatch()
    for block in range(10, 15):
        forks.note(block, f"opp-{block}")
        forks.on_marker(block, _hash(block))
    epoch = forks.epoch
    orphaned = forks.on_marker(12, _hash(12, "b"))  # the new branch's first block
    assert orphaned == [("opp-12", 12), ("opp-13", 13), ("opp-14", 14)]
    assert set(forks.orphaned) == {"opp-12", "opp-13", "opp-14"}
    assert forks.reorgs == 1
    # A batch captured before the reorg for block 13 is orphaned; one for block 11 is not.
    assert forks.orphaned_since(epoch, 13) and not forks.orphaned_since(epoch, 11)
    assert not forks.orphaned_since(forks.epoch, 13)  # captured after it: the new branch
    # The new branch goes on: its markers are new blocks, not another reorg.
    assert forks.on_marker(13, _hash(13, "b")) == [] and forks.reorgs == 1


def test_a_marker_below_the_top_orphans_the_blocks_above_it() -> None:
    forks = ForkWatch()
    for block in range(10, 15):
        forks.note(block, f"opp-{block}")
        forks.on_marker(block, _hash(block))
    assert forks.on_marker(12, _hash(12)) == [("opp-13", 13), ("opp-14", 14)]


def test_old_blocks_are_forgotten() -> None:
    forks = ForkWatch(window=8)
    for block in range(100):
        forks.note(block, f"opp-{block}")
        forks.on_marker(block, _hash(block))
    assert min(forks.hashes) >= 99 - 8 and min(forks.published) >= 99 - 8


def _diverged(svc: Any) -> tuple[Any, Any]:
    cheap = svc.pools.v2(svc.weth, svc.usdc, 100 * 10**18, 200_000 * 10**6)
    dear = svc.pools.v2(svc.weth, svc.usdc, 100 * 10**18, 220_000 * 10**6, dex="sushiswap")
    return cheap, dear


async def _publish_blocks_10_and_11(svc: Any) -> Any:
    """Blocks 10 and 11 of branch "a", an opportunity published for each; returns the pool
    block 11 moved (its state of block 10)."""
    scanner = svc.runtime.scanner
    cheap, dear = _diverged(svc)
    svc.update(cheap, 10)
    svc.update(dear, 10, 1)
    svc.block(10, block_hash=_hash(10))
    await wait_for(lambda: scanner.stats.published == 1)
    svc.update(dear.model_copy(update={"reserve1": dear.reserve1 + 10_000 * 10**6}), 11)
    svc.block(11, block_hash=_hash(11))
    await wait_for(lambda: scanner.stats.published == 2)
    return dear


async def test_reorg_marks_the_old_branch_orphaned_in_history_and_on_the_socket(
    service: Any,
) -> None:
    scanner = service.runtime.scanner
    dear = await _publish_blocks_10_and_11(service)
    old_10, old_11 = (o.id for o in scanner.publisher.recent)
    subscriber = scanner.publisher.subscribe()

    # Block 11 is replaced by a block where nothing happened: ingest rolls `dear` back to
    # its state of block 10, then marks the new block 11.
    service.update(dear, 10, 1, removed=True)
    service.block(11, block_hash=_hash(11, "b"))
    await wait_for(lambda: scanner.stats.verification.get("orphaned") == 1)

    got = (await service.client.get(f"/api/opportunities/{old_11}")).json()
    assert got["verification"]["status"] == "orphaned"
    assert got["verification"]["block_number"] == 11
    kept = (await service.client.get(f"/api/opportunities/{old_10}")).json()
    assert kept["verification"]["status"] == "skipped"  # block 10 is still on the chain
    sent = [subscriber.queue.get_nowait() for _ in range(subscriber.queue.qsize())]
    assert any(b'"orphaned"' in m and old_11.encode() in m for m in sent if m is not None)
    listed = (await service.client.get("/api/opportunities", params={"status": "orphaned"})).json()
    assert [o["id"] for o in listed["items"]] == [old_11]


async def test_rollback_takes_the_open_batch_back_to_the_rolled_back_block(
    service: Any,
) -> None:
    """The old branch reached block 30; the new one is at block 21 so far. The batch the
    rollback opens holds states of block 21: it is labelled 21, not 30."""
    scanner = service.runtime.scanner
    cheap, dear = _diverged(service)
    service.update(cheap, 20)
    service.update(dear, 20, 1)
    service.block(20, block_hash=_hash(20))
    await wait_for(lambda: scanner.stats.published == 1)
    moved = cheap.model_copy(update={"reserve1": cheap.reserve1 - 1_000 * 10**6})
    service.update(moved, 30)
    service.block(30, block_hash=_hash(30))
    await wait_for(lambda: scanner.stats.published == 2)
    at_30 = scanner.publisher.recent[-1].id

    service.update(cheap, 20, removed=True)  # back to block 20's state
    assert scanner.store.head_block == 20
    newer = cheap.model_copy(update={"reserve1": cheap.reserve1 - 500 * 10**6})
    service.update(newer, 21)
    assert scanner.coalescer.pending is not None
    assert scanner.coalescer.pending.block_number == 21
    service.block(21, block_hash=_hash(21, "b"))
    await wait_for(lambda: scanner.stats.verification.get("orphaned") == 1)
    got = (await service.client.get(f"/api/opportunities/{at_30}")).json()
    assert got["verification"]["status"] == "orphaned"


async def test_a_replaced_block_is_priced_again_on_the_new_branch(service: Any) -> None:
    """The new branch's block 11 has the swap again, a bit smaller: the cycle is priced at 11
    once more (not deferred until the chain passes the old branch), and that opportunity is
    another (its id is of the new block's hash), stored beside the orphaned one."""
    scanner = service.runtime.scanner
    dear = await _publish_blocks_10_and_11(service)
    old_11 = scanner.publisher.recent[-1].id

    service.update(dear, 10, 1, removed=True)
    service.update(dear.model_copy(update={"reserve1": dear.reserve1 + 9_000 * 10**6}), 11)
    service.block(11, block_hash=_hash(11, "b"))
    await wait_for(lambda: scanner.stats.published == 3)
    new_11 = scanner.publisher.recent[-1]
    assert new_11.block_number == 11 and new_11.id != old_11
    await wait_for(lambda: scanner.stats.verification.get("orphaned") == 1)
    old = (await service.client.get(f"/api/opportunities/{old_11}")).json()
    assert old["verification"]["status"] == "orphaned"
    got = (await service.client.get(f"/api/opportunities/{new_11.id}")).json()
    assert got["verification"]["status"] != "orphaned"
    assert got["amount_out"] == str(new_11.amount_out)
