"""The pipeline in process: updates in, exact opportunities out, once per cycle per block."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from titan_common.models import Verification
from titan_scanner.pipeline import publication as publication_module
from titan_scanner.testing import get_amount_out, wait_for


def _diverged(svc: Any) -> tuple[Any, Any]:
    cheap = svc.pools.v2(svc.weth, svc.usdc, 100 * 10**18, 200_000 * 10**6)
    dear = svc.pools.v2(svc.weth, svc.usdc, 100 * 10**18, 220_000 * 10**6, dex="sushiswap")
    return cheap, dear


def _diverged_block(svc: Any, block: int) -> tuple[Any, Any]:
    """The two pools, diverged, as the logs of `block`, and its marker: one batch to price."""
    cheap, dear = _diverged(svc)
    svc.update(cheap, block)
    svc.update(dear, block, 1)
    svc.block(block)
    return cheap, dear


async def test_divergence_is_published_with_exact_amounts(service: Any) -> None:
    cheap, dear = _diverged(service)
    arrived = time.time()
    service.update(cheap, 10, received_at=arrived)
    service.update(dear, 10, 1, received_at=arrived)
    service.block(10)
    scanner = service.runtime.scanner
    await wait_for(lambda: scanner.stats.published >= 1)
    opp = scanner.publisher.recent[-1]
    assert opp.block_number == 10
    assert [h.pool for h in opp.hops] == [dear.address, cheap.address]
    first = get_amount_out(
        opp.amount_in,
        dear.reserve0 if dear.token0 == service.weth else dear.reserve1,
        dear.reserve1 if dear.token0 == service.weth else dear.reserve0,
        30,
    )
    assert opp.hops[0].amount_out == first
    assert opp.amount_out == opp.hops[-1].amount_out
    assert opp.gross_profit == opp.amount_out - opp.amount_in
    assert opp.gas_units == 45_000 + 2 * 62_000
    # ML forecast 1 gwei + 1000 wei priority, bid 1.2, rounded up; the base token is native.
    assert opp.gas_price_wei == -(-(10**9 + 1000) * 1200 // 1000)
    assert opp.gas_cost == opp.gas_units * opp.gas_price_wei
    assert opp.net_profit == opp.gross_profit - opp.gas_cost > 0
    assert opp.action.source == "rl_agent"
    assert opp.verification.status == "skipped"  # no chain in this test
    assert 0 <= opp.latency_ms < 5000
    await wait_for(lambda: scanner.stats.published == 1)
    stored = (await service.client.get(f"/api/opportunities/{opp.id}")).json()
    assert stored["amount_out"] == str(opp.amount_out)


async def test_one_evaluation_per_cycle_per_block(service: Any, fake_engine: Any) -> None:
    cheap, dear = _diverged(service)
    for i in range(5):  # many logs of one block: one batch
        service.update(cheap.model_copy(update={"reserve1": cheap.reserve1 + i}), 20, i)
    service.update(dear, 20, 9)
    service.block(20)
    scanner = service.runtime.scanner
    await wait_for(lambda: scanner.stats.published >= 1)
    # A late log of the same block: the cycles already evaluated wait for the next block.
    service.update(dear.model_copy(update={"reserve1": dear.reserve1 + 5}), 20, 10)
    service.block(20)
    await wait_for(lambda: scanner.coalescer.pending is None)
    keys = [k for batch in fake_engine.batches for k in batch]
    assert len(keys) == len(set(keys))
    assert scanner.evaluations_by_block[20] == len(keys)
    service.update(cheap.model_copy(update={"reserve1": cheap.reserve1 + 99}), 21)
    service.block(21)
    await wait_for(lambda: 21 in scanner.evaluations_by_block)
    assert scanner.evaluations_by_block[21] >= 1


async def test_a_subscriber_gets_each_message_as_it_is_made(service: Any) -> None:
    """The first opportunity of a block reaches a subscriber's queue, and its sender runs,
    before the block's later opportunities are made."""
    scanner = service.runtime.scanner
    subscriber = scanner.publisher.subscribe()
    seen_at: list[int] = []  # opportunities published when the sender got each message

    async def sender() -> None:
        while len(seen_at) < 3:
            await subscriber.queue.get()
            seen_at.append(scanner.stats.published)

    task = asyncio.create_task(sender())
    pools = [
        service.pools.v2(service.weth, service.usdc, 100 * 10**18, usdc * 10**6, dex=dex)
        for usdc, dex in ((200_000, "uniswap_v2"), (206_000, "sushiswap"), (220_000, "quickswap"))
    ]
    for i, pool in enumerate(pools):
        service.update(pool, 30, i)
    service.block(30)
    await asyncio.wait_for(task, 5)
    assert seen_at == [1, 2, 3]  # not [3, 3, 3]: the block's loop let it run each time


async def test_a_block_is_on_the_hot_path_until_its_opportunities_are_out(
    service: Any, monkeypatch: Any
) -> None:
    """From a block's first update to its last opportunity's publication, the work off the
    hot path (the proofs) holds back."""
    scanner = service.runtime.scanner
    assert not scanner.hot_path.busy
    cheap, dear = _diverged(service)
    service.update(cheap, 40)
    assert scanner.hot_path.busy  # its batch is open
    service.update(dear, 40, 1)
    busy_at_publication: list[bool] = []
    publish = scanner.publisher.opportunity

    def watched(opportunity: Any) -> None:
        busy_at_publication.append(scanner.hot_path.busy)
        publish(opportunity)

    monkeypatch.setattr(scanner.publisher, "opportunity", watched)
    service.block(40)
    await wait_for(lambda: not scanner.hot_path.busy)
    assert busy_at_publication == [True]
    service.update(cheap.model_copy(update={"reserve1": cheap.reserve1 + 1}), 41)
    assert scanner.hot_path.busy
    service.block(41)  # nothing to price: the batch closes empty
    await wait_for(lambda: not scanner.hot_path.busy)


async def test_opportunities_are_prepared_while_the_policy_decides(
    service: Any, monkeypatch: Any
) -> None:
    """The hops and ids are made during the policy's round trip, not after its answer."""
    scanner = service.runtime.scanner
    answered = asyncio.Event()
    decide = scanner.policy.actions

    async def slow_policy(states: list[dict[str, Any]]) -> Any:
        await asyncio.sleep(0.05)
        actions = await decide(states)
        answered.set()
        return actions

    before_answer: list[bool] = []
    prepare = publication_module.prepare

    def watched(*args: Any) -> Any:
        before_answer.append(not answered.is_set())
        return prepare(*args)

    monkeypatch.setattr(scanner.policy, "actions", slow_policy)
    monkeypatch.setattr(publication_module, "prepare", watched)
    _diverged_block(service, 50)
    await wait_for(lambda: scanner.stats.published >= 1)
    assert before_answer and all(before_answer), before_answer


async def test_nothing_below_min_profit_or_gas(service: Any, fake_ml: Any) -> None:
    fake_ml.base_fee = 10**15  # gas dearer than any profit here
    _diverged_block(service, 30)
    scanner = service.runtime.scanner
    await wait_for(lambda: scanner.stats.rejected_unprofitable >= 1)
    assert scanner.stats.published == 0


async def test_equal_prices_never_reach_the_engine(service: Any, fake_engine: Any) -> None:
    a = service.pools.v2(service.weth, service.usdc, 10**20, 2 * 10**11)
    b = service.pools.v2(service.weth, service.usdc, 10**20, 2 * 10**11, dex="quickswap")
    service.update(a, 40)
    service.update(b, 40, 1)
    service.block(40)
    scanner = service.runtime.scanner
    await wait_for(lambda: scanner.coalescer.pending is None and scanner.stats.blocks >= 1)
    assert fake_engine.batches == []


async def test_engine_down_then_back(service: Any, fake_engine: Any) -> None:
    scanner = service.runtime.scanner
    fake_engine.down = True
    _diverged_block(service, 50)
    await wait_for(lambda: scanner.stats.engine_errors >= 1)
    ready = await service.client.get("/ready")
    assert ready.status_code == 503
    assert "no opportunities" in ready.json()["checks"]["engine"]
    assert scanner.stats.published == 0
    fake_engine.down = False
    # Recovery re-screens every cycle at the head block without a new update.
    await wait_for(lambda: scanner.stats.published >= 1, within=5)
    assert scanner.health.is_up("engine")


async def test_an_engine_heard_from_is_not_probed_until_it_fails(
    service: Any, fake_engine: Any
) -> None:
    """The pipeline's calls are answers as good as a probe's: an engine that answered within
    the probe interval is not asked `/health`; once a call fails it is asked every interval."""
    runtime = service.runtime
    interval = runtime.settings.scanner_probe_interval
    await wait_for(lambda: runtime.health.is_up("engine"))
    checks = fake_engine.health_checks
    deadline = time.monotonic() + 20 * interval
    while time.monotonic() < deadline:  # the pipeline calls the engine more often than probes
        await runtime.engine.evaluate_routes({"cycles": []})
        await asyncio.sleep(interval / 5)
    assert fake_engine.health_checks <= checks + 1  # at most the probe under way at the start
    fake_engine.down = True
    checks = fake_engine.health_checks
    await wait_for(lambda: not runtime.health.is_up("engine"))
    await wait_for(lambda: fake_engine.health_checks >= checks + 3)  # asked every interval
    fake_engine.down = False
    await wait_for(lambda: runtime.health.is_up("engine"))


async def test_ml_down_gives_default_action_and_stale_gas(service: Any, fake_ml: Any) -> None:
    scanner = service.runtime.scanner
    _, dear = _diverged_block(service, 60)
    await wait_for(lambda: scanner.stats.published >= 1)
    answered = scanner.policy.answered
    assert answered >= 1 and scanner.policy.defaulted == 0
    fake_ml.down = True
    await wait_for(lambda: not scanner.health.is_up("ml"))
    service.update(dear.model_copy(update={"reserve1": dear.reserve1 + 10**9}), 61)
    service.block(61)
    await wait_for(lambda: scanner.stats.published >= 2)
    opp = scanner.publisher.recent[-1]
    assert opp.action.source == "default" and opp.action.execute
    assert scanner.gas.cached(61).source == "ml_stale"
    assert opp.gas_price_wei == 10**9 + 1000  # stale forecast, bid 1.0
    # known down: no call, so none failed
    stats = (await service.client.get("/api/stats")).json()
    assert stats["policy"] == {
        "answered": answered,
        "by_source": {"rl_agent": answered},
        "defaulted": 1,
        "failed_calls": 0,
    }
    assert stats["gas_quotes"] == {"by_source": {"ml": 1, "ml_stale": 1}, "failed_ml_calls": 0}


async def test_failed_calls_to_ml_are_counted(service: Any, fake_ml: Any) -> None:
    scanner = service.runtime.scanner
    cheap, dear = _diverged(service)
    fake_ml.failing_actions = True
    service.update(cheap, 65)
    service.update(dear, 65, 1)
    service.block(65)
    await wait_for(lambda: scanner.stats.published >= 1)
    assert scanner.publisher.recent[-1].action.source == "default"
    stats = (await service.client.get("/api/stats")).json()
    assert stats["policy"] == {"answered": 0, "by_source": {}, "defaulted": 1, "failed_calls": 1}
    fake_ml.failing_forecasts = True
    service.update(dear.model_copy(update={"reserve1": dear.reserve1 + 10**9}), 66)
    service.block(66)
    await wait_for(lambda: scanner.stats.published >= 2)
    assert scanner.publisher.recent[-1].gas_price_wei == 10**9 + 1000  # the last forecast
    stats = (await service.client.get("/api/stats")).json()
    assert stats["gas_quotes"] == {"by_source": {"ml": 1, "ml_stale": 1}, "failed_ml_calls": 1}
    assert stats["policy"]["failed_calls"] == 2


async def test_stale_and_foreign_updates_are_ignored(service: Any) -> None:
    from titan_common.models import PoolUpdate

    scanner = service.runtime.scanner
    cheap, _ = _diverged(service)
    service.update(cheap, 70, 5)
    service.update(cheap.model_copy(update={"reserve0": 1}), 70, 4)
    assert scanner.store.state(cheap.address) == cheap
    assert scanner.store.dropped_stale == 1
    scanner.on_update(PoolUpdate(chain_id=1, pool=cheap, block_number=99, log_index=0))
    assert scanner.store.head_block == 70


async def test_a_full_proof_queue_gives_way_oldest_first(service: Any) -> None:
    """Overload drops the oldest proof, recorded `skipped` in the history, never the newest."""
    _diverged_block(service, 10)
    scanner = service.runtime.scanner
    await wait_for(lambda: scanner.stats.published >= 1)
    opp = scanner.publisher.recent[-1]
    scanner.proofs.queue = asyncio.Queue(2)
    skipped_before = scanner.stats.verification.get("skipped", 0)
    pending = opp.model_copy(update={"verification": Verification(status="pending")})
    scanner.proofs.offer(pending)
    for i in (1, 2):
        scanner.proofs.offer(opp.model_copy(update={"id": f"newer-{i}"}))
    assert [scanner.proofs.queue.get_nowait().id for _ in range(2)] == ["newer-1", "newer-2"]
    await wait_for(lambda: scanner.stats.verification.get("skipped", 0) == skipped_before + 1)


async def test_a_block_open_when_ingest_is_lost_is_held_not_priced(service: Any) -> None:
    """Ingest went down in the middle of block 10: the rest of its logs will never come, so
    block 10 is not priced on what arrived; its pools are priced with the next block."""
    cheap, dear = _diverged(service)
    scanner = service.runtime.scanner
    service.update(cheap, 10)
    service.update(dear, 10, 1)
    scanner.on_disconnect()
    await asyncio.sleep(0.2)
    scanner._close_pending("timeout")  # the fallback timer, had it not been cancelled
    assert scanner.stats.published == 0 and scanner.stats.blocks_closed.get("held") == 1
    service.block(11)  # the new connection's snapshot is at block 11: nothing changed
    service.update(cheap, 11)  # a swap at 11 on one of them
    service.block(11)
    await wait_for(lambda: scanner.stats.published >= 1)
    assert {o.block_number for o in scanner.publisher.recent} == {11}
    assert len(scanner.publisher.recent[-1].hops) == 2  # the held pool's cycle, priced at 11


async def test_a_new_connections_snapshot_is_priced_whole_at_its_marker(service: Any) -> None:
    """After a reconnection the snapshot mixes blocks: a pool at the snapshot's block 11,
    then one with a log of block 12 already applied. Closing the batch at that newer pool
    would price the first pool's cycles with the other pool's state of the old connection."""
    cheap, dear = _diverged_block(service, 10)
    scanner = service.runtime.scanner
    await wait_for(lambda: scanner.stats.published >= 1)
    scanner.on_disconnect()
    scanner.on_connect()
    dearer = dear.model_copy(update={"reserve1": dear.reserve1 + 5_000 * 10**6})
    service.update(cheap, 11, -1)  # the snapshot: pools as of block 11 ...
    await asyncio.sleep(0.1)  # messages stream in: the pipeline runs between them
    service.update(dearer, 12, 3)  # ... and one that already took a log of block 12
    await asyncio.sleep(0.1)
    assert scanner.coalescer.pending is not None  # not closed by the newer block
    service.block(12)
    await wait_for(lambda: any(o.block_number == 12 for o in scanner.publisher.recent))
    fresh = [o for o in scanner.publisher.recent if o.block_number > 10]
    assert {o.block_number for o in fresh} == {12}
    dear_hop = next(h for h in fresh[-1].hops if h.pool == dear.address)
    reserve_in, reserve_out = (
        (dearer.reserve0, dearer.reserve1)
        if dear_hop.token_in == dearer.token0
        else (dearer.reserve1, dearer.reserve0)
    )
    assert dear_hop.amount_out == get_amount_out(dear_hop.amount_in, reserve_in, reserve_out, 30)


async def test_a_snapshots_opportunities_stay_out_of_the_latency_figures(service: Any) -> None:
    """A new connection's snapshot carries the times ingest read its pools (here 4 s before):
    its opportunities are published with that age, but it is no block's latency. The next
    block's are counted."""
    cheap, dear = _diverged(service)
    scanner = service.runtime.scanner
    scanner.on_connect()
    read = time.time() - 4.0
    service.update(cheap, 10, received_at=read)
    service.update(dear, 10, 1, received_at=read)
    service.block(10, received_at=read)
    await wait_for(lambda: scanner.stats.published >= 1)
    assert scanner.publisher.recent[-1].latency_ms >= 4000  # what it is: the data's age
    assert list(scanner.stats.latencies_ms) == []
    dearer = dear.model_copy(update={"reserve1": dear.reserve1 + 5_000 * 10**6})
    service.update(dearer, 11, received_at=time.time())
    service.block(11)
    await wait_for(lambda: any(o.block_number == 11 for o in scanner.publisher.recent))
    counted = list(scanner.stats.latencies_ms)
    assert counted and all(ms < 4000 for ms in counted)


async def test_the_policys_answers_are_counted_by_who_decided_inside_ml(
    service: Any, fake_ml: Any
) -> None:
    """ML answers a state its agent never trained in with its threshold rule, and says so:
    the counts tell the two apart (the dashboard shows the agent's share)."""
    scanner = service.runtime.scanner
    _, dear = _diverged_block(service, 70)
    await wait_for(lambda: scanner.stats.published >= 1)
    fake_ml.action_source = "threshold_rule"
    service.update(dear.model_copy(update={"reserve1": dear.reserve1 + 10**9}), 71)
    service.block(71)
    await wait_for(lambda: scanner.stats.published >= 2)
    assert scanner.publisher.recent[-1].action.source == "threshold_rule"
    policy = (await service.client.get("/api/stats")).json()["policy"]
    assert policy["by_source"] == {"rl_agent": 1, "threshold_rule": 1}
    assert policy["answered"] == 2 and policy["defaulted"] == 0
    assert fake_ml.asked_q_values == [False, False]  # the scanner reads only the actions
