"""The sequencer's routing: what goes to the store, and what sends it to the backfill."""

from __future__ import annotations

from typing import Any

from titan_ingest.chain.abi import Sync
from titan_ingest.chain.config import PoolMeta
from titan_ingest.chain.rpc import Header
from titan_ingest.state.pools import PoolEntry
from titan_ingest.state.store import PoolStore
from titan_ingest.sync.messages import HeadMsg, LogMsg
from titan_ingest.sync.sequencer import Sequencer
from titan_ingest.sync.stats import SyncStats

A = "0x" + "11" * 20


def h(n: int, branch: str = "a") -> str:
    return "0x" + branch * 2 + f"{n:062x}"


class FakeBackfill:
    def __init__(self) -> None:
        self.calls = 0

    async def catch_up(self, received_at: float | None = None) -> None:
        self.calls += 1


def setup() -> tuple[Sequencer, FakeBackfill, list[tuple[PoolEntry, bool]]]:
    store = PoolStore(depth=8)
    entry = PoolEntry(PoolMeta(A, "uniswap_v2", "v2", A, A), 100, -1, reserve0=1, reserve1=1)
    store.reset([entry], 100, h(100))
    backfill = FakeBackfill()
    published: list[tuple[PoolEntry, bool]] = []
    seq = Sequencer(store, backfill, SyncStats(), lambda e, r: published.append((e, r)))  # type: ignore[arg-type]
    return seq, backfill, published


def log(n: int, index: int, branch: str = "a", removed: bool = False, value: int = 5) -> LogMsg:
    return LogMsg(A, n, h(n, branch), index, removed, Sync(value, value), 1.0)


def head(n: int, branch: str = "a", parent_branch: str = "a") -> HeadMsg:
    return HeadMsg(Header(n, h(n, branch), h(n - 1, parent_branch), 0), 1.0)


async def test_logs_apply_in_order_and_heads_extend_the_chain() -> None:
    seq, backfill, published = setup()
    await seq.handle(log(101, 0))
    await seq.handle(head(101))
    await seq.handle(log(101, 0))  # a duplicate: dropped
    await seq.handle(head(102))
    await seq.handle(head(103))
    assert backfill.calls == 0 and len(published) == 1
    assert seq.store.pools[A].version == (101, 0)
    assert seq.store.complete == 101  # two heads later
    assert seq.stats.events_stale == 1


async def test_contradictions_go_to_the_backfill() -> None:
    seq, backfill, _ = setup()
    await seq.handle(head(101))
    await seq.handle(head(102, parent_branch="b"))  # parent is not our 101
    assert backfill.calls == 1
    await seq.handle(log(101, 0, branch="b"))  # another hash for a known block
    assert backfill.calls == 2
    assert seq.store.pools[A].version == (100, 1 << 62)  # the log's block is not ours: dropped


async def test_removed_logs_roll_back_only_blocks_we_applied() -> None:
    seq, backfill, _ = setup()
    await seq.handle(log(101, 0))
    await seq.handle(log(101, 0, branch="b", removed=True))  # not our block 101
    assert backfill.calls == 0
    await seq.handle(log(101, 0, removed=True))
    assert backfill.calls == 1


async def test_old_and_unknown_messages_are_ignored() -> None:
    seq, backfill, published = setup()
    await seq.handle(log(99, 0))  # below the snapshot
    unknown: Any = LogMsg("0x" + "22" * 20, 101, h(101), 0, False, Sync(1, 1), 1.0)
    await seq.handle(unknown)
    assert not published and backfill.calls == 0
