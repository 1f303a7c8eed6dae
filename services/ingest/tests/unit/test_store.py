"""The pool store: versions, journals, rollback."""

from titan_ingest.chain.abi import Sync
from titan_ingest.chain.config import PoolMeta
from titan_ingest.state.pools import PoolEntry
from titan_ingest.state.store import PoolStore

A = "0x" + "11" * 20
B = "0x" + "44" * 20
T0 = "0x" + "22" * 20
T1 = "0x" + "33" * 20


def h(n: int, branch: str = "a") -> str:
    return "0x" + (branch * 2) + f"{n:062x}"


def store() -> PoolStore:
    s = PoolStore(depth=4)
    entries = [
        PoolEntry(PoolMeta(a, "uniswap_v2", "v2", T0, T1), 100, -1, reserve0=1, reserve1=1)
        for a in (A, B)
    ]
    s.reset(entries, 100, h(100))
    return s


def test_snapshot_version_is_after_every_log_of_its_block() -> None:
    s = store()
    assert s.apply_log(A, Sync(9, 9), 100, h(100), 5, None) is None
    assert s.pools[A].reserve0 == 1


def test_logs_apply_in_order_and_duplicates_drop() -> None:
    s = store()
    assert s.apply_log(A, Sync(2, 2), 101, h(101), 0, 1.0) is not None
    assert s.apply_log(A, Sync(3, 3), 101, h(101), 3, 1.0) is not None
    assert s.apply_log(A, Sync(9, 9), 101, h(101), 3, 1.0) is None  # duplicate
    assert s.apply_log(A, Sync(9, 9), 101, h(101), 1, 1.0) is None  # stale
    assert (s.pools[A].reserve0, s.pools[A].block_number, s.pools[A].log_index) == (3, 101, 3)
    assert s.apply_log("0x" + "99" * 20, Sync(1, 1), 101, h(101), 4, 1.0) is None  # unknown


def test_rollback_restores_the_state_before_the_dropped_blocks() -> None:
    s = store()
    s.note_block(101, h(101), h(100))
    s.apply_log(A, Sync(2, 2), 101, h(101), 0, 1.0)
    s.note_block(102, h(102), h(101))
    s.apply_log(A, Sync(3, 3), 102, h(102), 0, 1.0)
    s.apply_log(B, Sync(4, 4), 102, h(102), 1, 1.0)
    s.complete = 102
    restored = s.rollback_to(101)
    assert {e.meta.address for e in restored} == {A, B}
    assert s.pools[A].reserve0 == 2 and s.pools[A].block_number == 101
    assert s.pools[B].reserve0 == 1 and s.pools[B].log_index == -1
    assert (s.head, s.complete) == (101, 101)
    assert s.block_hash(102) is None
    s.rollback_to(100)
    assert s.pools[A].reserve0 == 1


def test_conflicts_by_hash_and_by_parent() -> None:
    s = store()
    s.note_block(101, h(101), h(100))
    assert not s.conflicts(101, h(101))
    assert s.conflicts(101, h(101, "b"))
    assert s.conflicts(102, h(102, "b"), parent_hash=h(101, "b"))
    assert not s.conflicts(102, h(102), parent_hash=h(101))


def test_history_is_pruned_to_depth() -> None:
    s = store()
    for n in range(101, 110):
        s.note_block(n, h(n), h(n - 1))
    assert s.oldest == 109 - 4
