"""Reorgs while the market flow runs: ingest must settle on the canonical chain, and every
opportunity the scanner found on a replaced block must be marked `orphaned`, in its history
and on `WS /ws/opportunities`; the opportunities of the canonical blocks stay exact."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from chaos.checks import (
    assert_ingest_equals_chain,
    head,
    ingest_stats,
    verification_counts,
)
from websockets.sync.client import connect

from titan_scanner.stack import wait_until

pytestmark = [pytest.mark.devnet, pytest.mark.slow]

DEADLINE_S = 60.0  # generous: a recovery deadline, not a timing assertion


def _hold_mining(chaos: Any) -> None:
    """Stop mining; returns once no block came for a block time (one may be under way)."""
    chaos.devnet.rpc("evm_setIntervalMining", 0)
    last = head(chaos.devnet)[0]
    while True:
        time.sleep(chaos.block_time + 0.2)
        now = head(chaos.devnet)[0]
        if now == last:
            return
        last = now


@contextmanager
def _mining_held(chaos: Any) -> Iterator[None]:
    """No block is mined inside (the flow's swaps wait in the pool): the blocks to replace
    stay the newest while the test looks at them."""
    _hold_mining(chaos)
    try:
        yield
    finally:
        chaos.devnet.rpc("evm_setIntervalMining", chaos.block_time)


def _opportunities_in(chaos: Any, low: int, high: int) -> list[dict[str, Any]]:
    """Those of blocks low..high not orphaned already (by an earlier reorg of these heights)."""
    items = chaos.stack.all_opportunities(block_from=low, block_to=high)
    return [o for o in items if o["verification"]["status"] != "orphaned"]


def _scanned(chaos: Any, block: int) -> bool:
    """Ingest has completed `block` and the scanner has had a second to price it."""
    return bool(ingest_stats(chaos.stack)["complete_block"] >= block)


def _doomed(chaos: Any, depth: int) -> tuple[int, list[dict[str, Any]]]:
    """Hold mining at a head whose last `depth` blocks have opportunities; (head, them)."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        _hold_mining(chaos)
        top, _ = head(chaos.devnet)
        wait_until(lambda top=top: _scanned(chaos, top), DEADLINE_S, f"ingest at block {top}")
        time.sleep(1.5)  # the scanner prices the block and publishes
        found = _opportunities_in(chaos, top - depth + 1, top)
        if found:
            return top, found
        chaos.devnet.rpc("evm_setIntervalMining", chaos.block_time)
        time.sleep(2 * chaos.block_time)
    raise AssertionError(f"no opportunity in the last {depth} blocks within {DEADLINE_S} s")


class _Stream:
    """`WS /ws/opportunities` read on demand: which ids it said were orphaned."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.orphaned: set[str] = set()

    def read_until(self, ids: set[str], timeout: float) -> set[str]:
        deadline = time.monotonic() + timeout
        while not ids <= self.orphaned and time.monotonic() < deadline:
            try:
                message = json.loads(self.ws.recv(timeout=1.0))
            except TimeoutError:
                continue
            if message["type"] == "verification" and message["data"]["status"] == "orphaned":
                self.orphaned.add(message["id"])
        return self.orphaned & ids


@contextmanager
def _stream(chaos: Any) -> Iterator[_Stream]:
    url = chaos.url("scanner").replace("http", "ws") + "/ws/opportunities"
    # Read on its own thread into an unbounded buffer: the server never sees a slow reader.
    with connect(url, max_size=None, max_queue=None, ping_interval=None) as ws:
        yield _Stream(ws)


def _orphaned_in(chaos: Any, low: int, high: int) -> set[str]:
    items = chaos.stack.all_opportunities(block_from=low, block_to=high, status="orphaned")
    return {o["id"] for o in items}


def _after_reorg(chaos: Any, label: str, doomed: list[dict[str, Any]], stream: _Stream,
                 reorgs: int, depth: int, since: int, started: float) -> None:  # fmt: skip
    ids = {o["id"] for o in doomed}
    low, high = min(o["block_number"] for o in doomed), max(o["block_number"] for o in doomed)
    wait_until(
        lambda: ids <= _orphaned_in(chaos, low, high),
        DEADLINE_S,
        f"{len(ids)} opportunities of the replaced blocks orphaned in the history",
    )
    orphaned_after = time.monotonic() - started
    assert stream.read_until(ids, DEADLINE_S) == ids, "not every orphan was sent on the socket"
    stats = ingest_stats(chaos.stack)
    assert stats["reorgs"] > reorgs and stats["reorg_max_depth"] >= depth
    block, pools = assert_ingest_equals_chain(chaos.stack, chaos.devnet, chaos.flow)
    # The canonical blocks' opportunities, from before the reorg to now: proven exactly.
    until, _ = head(chaos.devnet)
    items = wait_until(
        lambda: [
            o for o in chaos.stack.all_opportunities(block_from=since, block_to=until)
            if o["verification"]["status"] != "pending"
        ] or None,
        DEADLINE_S,
        "proofs after the reorg",
    )  # fmt: skip
    counts = verification_counts(items)
    chaos.report(
        f"[{label}] {len(ids)} opportunities orphaned {orphaned_after:.1f} s after the reorg "
        f"(history and WS); ingest reorgs {stats['reorgs']}, max depth "
        f"{stats['reorg_max_depth']}; {pools} pools equal the chain at block {block}; "
        f"proofs in blocks {since}-{until}: {counts}"
    )
    chaos.assert_exact(items)


@pytest.mark.parametrize("depth", [1, 3, 10])
def test_anvil_reorg_during_the_flow(chaos: Any, depth: int) -> None:
    stack, devnet = chaos.stack, chaos.devnet
    wait_until(lambda: stack.get("/ready").status_code == 200, DEADLINE_S, "scanner ready")
    reorgs = ingest_stats(stack)["reorgs"]
    with _stream(chaos) as stream:
        with _mining_held(chaos):
            top, doomed = _doomed(chaos, depth)
            old_hash = head(devnet)[1]
            # The last `depth` blocks, swaps and all, replaced by as many empty ones.
            devnet.rpc("anvil_reorg", depth, [])
            started = time.monotonic()
            assert head(devnet)[0] == top and head(devnet)[1] != old_hash
        _after_reorg(chaos, f"anvil_reorg depth {depth}", doomed, stream, reorgs, depth,
                     top - depth - 5, started)  # fmt: skip


def test_revert_to_a_snapshot_and_mine_another_branch(chaos: Any) -> None:
    """evm_snapshot, five blocks of the flow, evm_revert: the flow then mines a new branch
    over the same heights, with other swaps."""
    stack, devnet = chaos.stack, chaos.devnet
    depth = 5
    wait_until(lambda: stack.get("/ready").status_code == 200, DEADLINE_S, "scanner ready")
    reorgs = ingest_stats(stack)["reorgs"]
    with _stream(chaos) as stream:
        with _mining_held(chaos):
            fork, _ = head(devnet)
            snapshot = devnet.snapshot()
        wait_until(lambda: head(devnet)[0] >= fork + depth, DEADLINE_S, "the old branch")
        with _mining_held(chaos):
            top, _ = head(devnet)
            wait_until(lambda: _scanned(chaos, top), DEADLINE_S, f"ingest at block {top}")
            time.sleep(1.5)
            doomed = _opportunities_in(chaos, fork + 1, top)
            assert doomed, f"no opportunity on the old branch {fork + 1}-{top}"
            devnet.revert(snapshot)
            started = time.monotonic()
        # The new branch must pass the old one's height for ingest to see every block replaced.
        wait_until(lambda: head(devnet)[0] > top, DEADLINE_S, "the new branch past the old")
        _after_reorg(chaos, f"evm_revert + new branch, depth {top - fork}", doomed, stream,
                     reorgs, top - fork, fork - 5, started)  # fmt: skip
