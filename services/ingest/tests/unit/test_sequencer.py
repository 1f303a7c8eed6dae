"""The sequencer's routing: what goes to the store, and what sends it to the backfill."""

from __future__ import annotations

import asyncio
from typing import Any

from titan_ingest.chain.abi import Sync
from titan_ingest.chain.config import PoolMeta
from titan_ingest.chain.rpc import Header
from titan_ingest.state.pools import PoolEntry
from titan_ingest.state.store import PoolStore
from titan_ingest.sync.backfill import BlockRead
from titan_ingest.sync.messages import HeadMsg, LogMsg, Message
from titan_ingest.sync.sequencer import Sequencer
from titan_ingest.sync.stats import SyncStats

A = "0x" + "11" * 20


def h(n: int, branch: str = "a") -> str:
    return "0x" + branch * 2 + f"{n:062x}"


class FakeBackfill:
    """The backfill's side of the routing: counts catch-ups; a head's completion finds no
    log the stream did not deliver (the devnet tests run the real one)."""

    def __init__(self, store: PoolStore) -> None:
        self.store = store
        self.calls = 0
        self.completed: list[int] = []
        self.version_then: tuple[int, int] | None = None  # the pool's version at completion

    async def catch_up(self, received_at: float | None = None) -> None:
        self.calls += 1

    def read_block(self, header: Header, received_at: float) -> BlockRead:
        read: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        read.set_result(({header.number: header}, []))
        start = self.store.complete + 1
        return BlockRead(start, self.store.block_hash(start - 1), header, received_at, read)

    async def complete(self, read: BlockRead) -> None:
        self.completed.append(read.header.number)
        self.version_then = self.store.pools[A].version
        self.store.complete = read.header.number

    def wanted(self, log: LogMsg) -> bool:
        return log.address in self.store.pools


def setup() -> tuple[Sequencer, FakeBackfill, list[tuple[PoolEntry, bool]]]:
    store = PoolStore(depth=8)
    entry = PoolEntry(PoolMeta(A, "uniswap_v2", "v2", A, A), 100, -1, reserve0=1, reserve1=1)
    store.reset([entry], 100, h(100))
    backfill = FakeBackfill(store)
    published: list[tuple[PoolEntry, bool]] = []
    seq = Sequencer(store, backfill, SyncStats(), lambda e, r: published.append((e, r)))  # type: ignore[arg-type]
    return seq, backfill, published


def log(n: int, index: int, branch: str = "a", removed: bool = False, value: int = 5) -> LogMsg:
    return LogMsg(A, n, h(n, branch), index, removed, Sync(value, value), 1.0)


def head(n: int, branch: str = "a", parent_branch: str = "a") -> HeadMsg:
    return HeadMsg(Header(n, h(n, branch), h(n - 1, parent_branch), 0), 1.0)


async def test_logs_apply_in_order_and_heads_complete_their_block() -> None:
    seq, backfill, published = setup()
    await seq.handle(log(101, 0))
    await seq.handle(head(101))
    assert backfill.completed == []  # due: the stream's logs of 101 may be queued behind it
    await seq.handle(log(101, 1))  # of the due block: applied, the completion still waits
    await seq.handle(log(102, 0))  # a later block: 101 is completed (and marked) first
    assert backfill.completed == [101] and seq.store.complete == 101
    await seq.handle(log(101, 2))  # late: its head had it read by hash already
    await seq.handle(log(102, 0))  # a duplicate in an open block: stale
    await seq.handle(head(102))
    await seq.handle(head(102))  # the same head again: completes 102 first, then is due
    await seq.complete_due()  # what the run loop does once the queue is empty
    assert backfill.calls == 0 and len(published) == 3
    assert backfill.completed == [101, 102, 102]
    assert seq.store.pools[A].version == (102, 0)
    assert seq.stats.events_late == 1 and seq.stats.events_stale == 1


async def test_run_completes_a_due_block_once_the_queue_is_empty() -> None:
    seq, backfill, _ = setup()
    queue: asyncio.Queue[Message] = asyncio.Queue()
    for message in (head(101), log(101, 0), log(101, 1)):
        queue.put_nowait(message)
    task = asyncio.create_task(seq.run(queue))
    try:
        await asyncio.wait_for(queue.join(), 5)
        async with asyncio.timeout(5):
            while not backfill.completed:  # noqa: ASYNC110 (the run loop's own turn)
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert backfill.completed == [101]
    assert backfill.version_then == (101, 1)  # both queued logs went first


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
