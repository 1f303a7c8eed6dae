"""The verifier proves an opportunity once its block is no longer the chain's newest; the
proof stage feeds it from a bounded queue."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from prometheus_client import CollectorRegistry
from sqlalchemy import event
from structlog.testing import capture_logs

from titan_common.models import Opportunity
from titan_scanner.chain import ChainReader, node_unreachable
from titan_scanner.history import OpportunityRepository
from titan_scanner.pipeline import proofs as proofs_module
from titan_scanner.pipeline.hot_path import HotPath
from titan_scanner.pipeline.metrics import ScannerMetrics
from titan_scanner.pipeline.proofs import ProofStage
from titan_scanner.pipeline.publish import Publisher
from titan_scanner.pipeline.reorg import ForkWatch
from titan_scanner.pipeline.stats import ScannerStats
from titan_scanner.pipeline.tasks import BackgroundTasks
from titan_scanner.stack import free_port
from titan_scanner.testing import wait_for
from titan_scanner.verify import Verifier
from titan_scanner.verify import executor as executor_module


class Chain:
    """The chain as the verifier reads it: its head, and `execute`'s answer by block."""

    def __init__(self, head: int) -> None:
        self.head = head
        self.calls: list[tuple[int, int]] = []  # (block called at, head then)

    async def block_number(self) -> int:
        return self.head

    async def call(self, tx: dict[str, Any], block_number: int) -> bytes:
        self.calls.append((block_number, self.head))
        return encode(["uint256[]"], [[10, 11]])


def _opportunity(block: int) -> Opportunity:
    hop = {
        "pool": "0x" + "a" * 40,
        "dex": "uniswap_v2",
        "kind": "v2",
        "fee_bps": 30,
        "token_in": "0x" + "1" * 40,
        "token_out": "0x" + "2" * 40,
        "amount_in": "10",
        "amount_out": "11",
    }
    return Opportunity.model_validate(
        {
            "id": f"31337-{block}-x",
            "chain_id": 31337,
            "block_number": block,
            "base_token": "0x" + "1" * 40,
            "amount_in": "10",
            "amount_out": "11",
            "gross_profit": "1",
            "gas_units": 1,
            "gas_price_wei": "1",
            "gas_cost": "1",
            "net_profit": "0",
            "hops": [hop],
            "action": {
                "execute": True,
                "size_fraction": 1.0,
                "gas_bid_multiplier": 1.0,
                "source": "default",
            },
            "verification": {"status": "pending"},
            "detected_at": 0.0,
            "latency_ms": 0.0,
        }
    )


async def test_the_proof_waits_for_a_block_above_its_own(monkeypatch: Any) -> None:
    monkeypatch.setattr(executor_module, "HEAD_POLL_S", 0.01)
    chain = Chain(head=100)
    verifier = Verifier(chain, "0x" + "e" * 40, "0x" + "f" * 40)  # type: ignore[arg-type]
    proof = asyncio.create_task(verifier.verify(_opportunity(100)))
    await asyncio.sleep(0.1)
    assert not proof.done() and chain.calls == []  # block 100 is the head: not yet
    chain.head = 101
    result = await asyncio.wait_for(proof, 5)
    assert result.status == "verified" and chain.calls == [(100, 101)]
    await verifier.verify(_opportunity(100))  # an older block: at once
    assert chain.calls[-1] == (100, 101)


async def test_a_head_seen_elsewhere_lets_the_proof_go_without_asking_the_node(
    monkeypatch: Any,
) -> None:
    """Ingest's marker of the next block reaches the waiting proof at once, not at the
    verifier's next look at the node."""
    monkeypatch.setattr(executor_module, "HEAD_POLL_S", 30.0)
    chain = Chain(head=100)
    verifier = Verifier(chain, "0x" + "e" * 40, "0x" + "f" * 40)  # type: ignore[arg-type]
    proof = asyncio.create_task(verifier.verify(_opportunity(100)))
    await asyncio.sleep(0.05)
    assert not proof.done()
    chain.head = 101
    verifier.note_head(101)
    result = await asyncio.wait_for(proof, 1)
    assert result.status == "verified" and chain.calls == [(100, 101)]


async def test_a_chain_that_mines_nothing_is_called_at_its_head(monkeypatch: Any) -> None:
    monkeypatch.setattr(executor_module, "HEAD_WAIT_S", 0.05)
    monkeypatch.setattr(executor_module, "HEAD_POLL_S", 0.01)
    chain = Chain(head=7)
    verifier = Verifier(chain, "0x" + "e" * 40, "0x" + "f" * 40)  # type: ignore[arg-type]
    result = await asyncio.wait_for(verifier.verify(_opportunity(7)), 5)
    assert result.status == "verified" and chain.calls == [(7, 7)]


async def test_a_quiet_chain_is_waited_out_once_per_block(monkeypatch: Any) -> None:
    """The many proofs of one block on a chain that mines nothing wait once, not one by one."""
    monkeypatch.setattr(executor_module, "HEAD_WAIT_S", 0.3)
    monkeypatch.setattr(executor_module, "HEAD_POLL_S", 0.01)
    chain = Chain(head=7)
    verifier = Verifier(chain, "0x" + "e" * 40, "0x" + "f" * 40)  # type: ignore[arg-type]
    started = time.monotonic()
    for _ in range(5):
        await verifier.verify(_opportunity(7))
    assert time.monotonic() - started < 0.3 * 2
    assert chain.calls == [(7, 7)] * 5
    proof = asyncio.create_task(verifier.verify(_opportunity(8)))  # a newer block waits again
    await asyncio.sleep(0.1)
    assert not proof.done()
    chain.head = 9
    assert (await asyncio.wait_for(proof, 5)).status == "verified"


async def test_a_proof_far_behind_the_head_is_skipped(monkeypatch: Any) -> None:
    """Past the node's state window the call could only fail: skipped, no call made; the
    head is read afresh, so a proof that falls behind while queued is seen to."""
    monkeypatch.setattr(executor_module, "HEAD_POLL_S", 0.0)
    chain = Chain(head=101)
    verifier = Verifier(chain, "0x" + "e" * 40, "0x" + "f" * 40, max_age=10)  # type: ignore[arg-type]
    assert (await verifier.verify(_opportunity(91))).status == "verified"
    chain.head = 102
    skipped = await verifier.verify(_opportunity(91))
    assert skipped.status == "skipped" and skipped.block_number == 91
    assert chain.calls == [(91, 101)]


class FlakyChain(Chain):
    """A node that refuses `down` calls (as a stopped node does), then answers."""

    def __init__(self, head: int, down: int, error: Exception) -> None:
        super().__init__(head)
        self.down = down
        self.error = error
        self.refused = 0

    async def call(self, tx: dict[str, Any], block_number: int) -> bytes:
        if self.refused < self.down:
            self.refused += 1
            raise self.error
        return await super().call(tx, block_number)


def _quick_retries(monkeypatch: Any, wait: float) -> None:
    monkeypatch.setattr(executor_module, "NODE_WAIT_S", wait)
    monkeypatch.setattr(executor_module, "NODE_RETRY_S", 0.01)
    monkeypatch.setattr(executor_module, "NODE_RETRY_MAX_S", 0.02)


async def test_a_node_that_does_not_answer_is_waited_for(monkeypatch: Any) -> None:
    """A stopped node is an outage, not a revert: the proof is made once it answers."""
    _quick_retries(monkeypatch, wait=5.0)
    refused = ConnectionRefusedError(111, "Connect call failed")
    chain = FlakyChain(head=9, down=3, error=refused)
    verifier = Verifier(chain, "0x" + "e" * 40, "0x" + "f" * 40)  # type: ignore[arg-type]
    result = await asyncio.wait_for(verifier.verify(_opportunity(8)), 5)
    assert result.status == "verified" and chain.refused == 3 and chain.calls == [(8, 9)]


async def test_a_node_silent_past_the_wait_fails_the_proof(monkeypatch: Any) -> None:
    _quick_retries(monkeypatch, wait=0.1)
    chain = FlakyChain(head=9, down=10**6, error=TimeoutError())
    verifier = Verifier(chain, "0x" + "e" * 40, "0x" + "f" * 40)  # type: ignore[arg-type]
    result = await asyncio.wait_for(verifier.verify(_opportunity(8)), 5)
    assert result.status == "failed" and chain.calls == []
    # The outage is counted from its start: the next proof does not wait it out again.
    refused_before = chain.refused
    assert (await asyncio.wait_for(verifier.verify(_opportunity(8)), 5)).status == "failed"
    assert chain.refused == refused_before + 1


async def test_an_answer_that_is_an_error_fails_the_proof_at_once(monkeypatch: Any) -> None:
    """A revert is the node's answer: no waiting."""
    _quick_retries(monkeypatch, wait=5.0)
    chain = FlakyChain(head=9, down=1, error=ValueError("execution reverted"))
    verifier = Verifier(chain, "0x" + "e" * 40, "0x" + "f" * 40)  # type: ignore[arg-type]
    assert (await verifier.verify(_opportunity(8))).status == "failed"
    assert chain.refused == 1 and chain.calls == []


async def test_a_closed_port_is_unreachable_not_an_answer() -> None:
    """What the chain reader raises for a node that is not listening."""
    reader = ChainReader(f"http://127.0.0.1:{free_port()}", timeout=3)  # nothing listens there
    try:
        tx = {"to": "0x" + "1" * 40, "data": "0x"}
        try:
            await reader.call(tx, 1)
        except Exception as exc:
            assert node_unreachable(exc), repr(exc)
        else:
            raise AssertionError("a closed port answered")
    finally:
        await reader.close()
    assert not node_unreachable(ValueError("execution reverted"))


def _proof_stage(
    verifier: Verifier,
    repository: OpportunityRepository,
    forks: ForkWatch,
    stats: ScannerStats,
    hot_path: HotPath | None = None,
) -> ProofStage:
    """The proof stage proving every opportunity, its other parts fresh."""
    metrics = ScannerMetrics.create(CollectorRegistry())
    return ProofStage(
        verifier,
        "all",
        1.0,
        repository,
        Publisher(),
        forks,
        stats,
        metrics,
        BackgroundTasks(),
        hot_path,
    )


async def test_a_proof_waits_while_a_block_is_on_the_hot_path(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """No `eth_call` beside a block being priced: the proof goes once the block is out, or
    after the bound when blocks never stop coming."""
    repository = OpportunityRepository.open(f"sqlite:///{tmp_path}/scanner.db")
    chain = Chain(head=60)
    verifier = Verifier(chain, "0x" + "e" * 40, "0x" + "f" * 40)  # type: ignore[arg-type]
    hot_path = HotPath()
    stats = ScannerStats()
    stage = _proof_stage(verifier, repository, ForkWatch(), stats, hot_path)
    await repository.save_many([(_opportunity(58), "a"), (_opportunity(59), "b")])
    monkeypatch.setattr(proofs_module, "HOT_PATH_WAIT_S", 30.0)
    hot_path.mark(True)
    stage.offer(_opportunity(59))  # block 59 is below the head: only the hot path holds it
    worker = asyncio.create_task(stage.run())
    try:
        await asyncio.sleep(0.2)
        assert chain.calls == []
        hot_path.mark(False)
        await wait_for(lambda: chain.calls == [(59, 60)])
        monkeypatch.setattr(proofs_module, "HOT_PATH_WAIT_S", 0.05)
        hot_path.mark(True)  # busy from now on
        stage.offer(_opportunity(58))
        await wait_for(lambda: len(chain.calls) == 2)
        assert hot_path.busy and chain.calls[-1] == (58, 60)
    finally:
        worker.cancel()
    repository.close()


async def test_proofs_past_the_window_are_skipped_together(tmp_path: Path) -> None:
    """Under a flood the queue's stale end is dropped in one write, and the worker goes on to
    the fresh proofs (one by one, it would spend its turns on the stale end)."""
    repository = OpportunityRepository.open(f"sqlite:///{tmp_path}/scanner.db")
    commits: list[int] = []
    event.listen(repository.engine, "commit", lambda _conn: commits.append(1))
    chain = Chain(head=200)
    verifier = Verifier(chain, "0x" + "e" * 40, "0x" + "f" * 40, max_age=10)  # type: ignore[arg-type]
    stats = ScannerStats()
    stage = _proof_stage(verifier, repository, ForkWatch(), stats)
    blocks = [199, *range(100, 150), *range(195, 199)]
    await repository.save_many([(_opportunity(b), "k") for b in blocks])
    before = len(commits)
    for block in blocks:
        stage.offer(_opportunity(block))
    worker = asyncio.create_task(stage.run())
    try:
        await wait_for(lambda: sum(stats.verification.values()) == len(blocks))
        stored = await repository.status_counts()  # after the results' writes: they queued first
    finally:
        worker.cancel()
    assert stats.verification == {"verified": 5, "skipped": 50}
    assert sorted(block for block, _ in chain.calls) == [195, 196, 197, 198, 199]
    assert stored == {"verified": 5, "skipped": 50}
    assert len(commits) - before <= 5 + 2, f"{len(commits) - before} commits"
    repository.close()


async def test_a_mismatch_is_reported_unless_a_reorg_orphaned_it_meanwhile(tmp_path: Path) -> None:
    """A proof taken up before a reorg runs on the new branch: its difference is no finding
    (no warning, nothing recorded); a live opportunity's is."""
    repository = OpportunityRepository.open(f"sqlite:///{tmp_path}/scanner.db")
    live = _opportunity(40).model_copy(update={"amount_out": 12})
    orphan = _opportunity(41).model_copy(update={"amount_out": 12})
    forks = ForkWatch()

    class ReorgingChain(Chain):
        async def call(self, tx: dict[str, Any], block_number: int) -> bytes:
            if block_number == orphan.block_number:
                forks.orphaned[orphan.id] = orphan.block_number
            return await super().call(tx, block_number)

    chain = ReorgingChain(head=50)
    verifier = Verifier(chain, "0x" + "e" * 40, "0x" + "f" * 40)  # type: ignore[arg-type]
    stats = ScannerStats()
    stage = _proof_stage(verifier, repository, forks, stats)
    await repository.save_many([(live, "k"), (orphan, "k")])
    stage.offer(orphan)
    stage.offer(live)
    with capture_logs() as logs:
        worker = asyncio.create_task(stage.run())
        try:
            await wait_for(lambda: len(chain.calls) == 2 and sum(stats.verification.values()) == 1)
            stored = await repository.status_counts()
        finally:
            worker.cancel()
    assert stats.verification == {"mismatch": 1}
    assert stored == {"mismatch": 1, "pending": 1}
    warned = [e["id"] for e in logs if e["event"] == "scanner.verification.mismatched"]
    assert warned == [live.id]
    repository.close()
