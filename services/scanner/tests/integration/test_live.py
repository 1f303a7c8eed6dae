"""The scanner against the real system: devnet with its flow, engine, ingest and ML processes.

Slow by nature (blocks, processes): one module, one stack, about a minute or two in all.
"""

from __future__ import annotations

import csv
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect as ws_connect

from titan_scanner import cli
from titan_scanner.stack import Stack, wait_until

pytestmark = [pytest.mark.devnet, pytest.mark.slow]


def _stats(stack: Stack) -> dict[str, Any]:
    body: dict[str, Any] = stack.get("/api/stats").json()
    return body


def _ingest_stats(stack: Stack) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{stack.processes['ingest'].url}/api/stats").json()
    return body


@contextmanager
def _interval_mining(devnet: Any, seconds: int) -> Iterator[None]:
    """Blocks every `seconds` holding every swap sent meanwhile (as `make up` runs), instead
    of one block per transaction; automine again afterwards."""
    devnet.rpc("evm_setAutomine", False)
    devnet.rpc("evm_setIntervalMining", seconds)
    try:
        yield
    finally:
        devnet.rpc("evm_setIntervalMining", 0)
        devnet.rpc("evm_setAutomine", True)
        devnet.mine()  # what the flow left pending


def _proven(stack: Stack, start: int, count: int, blocks: int = 1) -> bool:
    """At least `count` opportunities since `start` proven, in at least `blocks` blocks."""
    proven = [
        o
        for o in stack.all_opportunities(block_from=start)
        if o["verification"]["status"] in ("verified", "mismatch", "failed")
    ]
    return len(proven) >= count and len({o["block_number"] for o in proven}) >= blocks


def _check_proofs(stack: Stack, start: int, label: str) -> None:
    """Every opportunity since `start` proven by eth_call at its block pays exactly what was
    predicted: the scanner priced each block with all of its logs. Prints the figures."""
    items = stack.all_opportunities(block_from=start)
    checked = [o for o in items if o["verification"]["status"] in ("verified", "mismatch")]
    wrong = [
        o for o in checked if int(o["verification"]["realized_amount_out"]) != int(o["amount_out"])
    ]
    failed = [o for o in items if o["verification"]["status"] == "failed"]
    latencies = sorted(float(o["latency_ms"]) for o in items)
    ingest = _ingest_stats(stack)
    blocks = {o["block_number"] for o in items}
    print(
        f"[{label}] opportunities {len(items)} in {len(blocks)} blocks, proven {len(checked)}, "
        f"mismatches {len(wrong)}, failed {len(failed)}; scanner block->publish "
        f"p50 {percentile(latencies, 50):.1f} ms p99 {percentile(latencies, 99):.1f} ms, "
        f"batches closed {_stats(stack).get('blocks_closed')}; ingest log->client "
        f"{ingest['publish_latency_ms']}, late stream logs {ingest.get('events_late')}"
    )
    for o in wrong:
        print(
            f"MISMATCH {o['id']} block {o['block_number']}: predicted {o['amount_out']}, "
            f"chain {o['verification']['realized_amount_out']}"
        )
    assert len(checked) >= 20
    assert failed == []
    assert wrong == []
    assert all(int(o["net_profit"]) > 0 for o in items)
    assert all(int(o["net_profit"]) == int(o["gross_profit"]) - int(o["gas_cost"]) for o in items)
    # One evaluation per cycle per block: never two opportunities for one cycle and block.
    keys = [
        (o["block_number"], tuple((h["pool"], h["token_in"]) for h in o["hops"])) for o in items
    ]
    assert len(keys) == len(set(keys))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q / 100 * len(values)))]


def test_flow_opportunities_are_proven_exactly(stack: Stack) -> None:
    devnet = stack.devnet
    start = devnet.w3.eth.block_number
    with devnet.flow(seed=11, pause=0.05):
        first = wait_until(
            lambda: stack.all_opportunities(block_from=start), 60, "a first opportunity"
        )
        print(f"first opportunity at block {first[-1]['block_number']} (flow from {start})")
        wait_until(lambda: _proven(stack, start, 25), 150, "25 opportunities proven on the chain")
    time.sleep(1.0)
    _check_proofs(stack, start, "one block per swap")


def test_replayed_opportunities_train_the_agent(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`titan replay` on the flow's verified opportunities (the test above), then the agent
    trained and judged on them as the ML service's training does."""
    pytest.importorskip("titan_ml")
    from titan_ml.rl.env import ArbitrageEnv
    from titan_ml.rl.replay import load_replay
    from titan_ml.rl.train import evaluate_policies, split, train_agent

    devnet = stack.devnet
    if not _proven(stack, 0, 100):  # a market to learn from: 60 to train on, 40 to judge
        with devnet.flow(seed=13, pause=0.05):
            wait_until(lambda: _proven(stack, 0, 100), 150, "100 opportunities proven")
        time.sleep(1.0)
    monkeypatch.setenv("CHAIN_RPC_URL", devnet.rpc_url)
    monkeypatch.setenv("DEVNET_MANIFEST", str(devnet.manifest_path))
    out = tmp_path / "rl_replay.csv"
    verified = [
        o
        for o in stack.all_opportunities(status="verified")
        if o["base_token"] == o["hops"][0]["token_in"]
    ]
    assert cli.main(["replay", "--url", stack.scanner, "--out", str(out), "--blocks", "5000"]) == 0
    with out.open(newline="") as handle:
        rows = {r["opportunity_id"]: r for r in csv.DictReader(handle)}
    by_id = {o["id"]: o for o in verified}
    print(f"replayed {len(rows)} of {len(verified)} verified opportunities")
    assert len(rows) >= 100 and set(rows) <= set(by_id)
    for oid, row in rows.items():
        opp = by_id[oid]
        # the full size at its block pays what was proven; every part of it still pays
        assert int(row["out_at_block_1"]) == int(opp["amount_out"])
        assert int(row["size_0.25"]) == int(opp["amount_in"]) // 4
        for f in ("0.25", "0.5"):
            assert int(row[f"out_at_block_{f}"]) > int(row[f"size_{f}"])
    late_reverts = sum(row["out_late_1"] == "" for row in rows.values())
    late_losses = sum(
        row["out_late_1"] != "" and int(row["out_late_1"]) < int(row["size_1"])
        for row in rows.values()
    )
    print(f"one block late at full size: {late_reverts} revert, {late_losses} lose")

    train, held_out = split(load_replay(out))
    agent, _ = train_agent([ArbitrageEnv(train)], 300, seed=7)
    env = ArbitrageEnv(held_out)
    evaluation = evaluate_policies(env, agent, 100, seed=8)
    for name, row in evaluation["policies"].items():
        print(f"{name}: mean {row['mean_reward_eth']:.6f} ETH, std {row['std_reward_eth']:.6f}")
    policies = evaluation["policies"]
    best = policies[evaluation["best_fixed_policy"]]["mean_reward_eth"]
    assert policies["agent_greedy"]["mean_reward_eth"] >= best
    seen = [agent.seen(env.state(o, deque())) for o in held_out]
    print(f"held-out states the agent trained in: {sum(seen)} of {len(seen)}")
    assert sum(seen) > len(seen) // 2


def test_each_server_keeps_its_startup_heap_out_of_full_collections(stack: Stack) -> None:
    """A full collection over a service's whole heap held its event loop for 100-250 ms on
    this machine; each server freezes what startup built (the scanner also its snapshot's
    pools and cycles), so later collections skip it."""
    for name in ("scanner", "ingest", "ml"):
        if name not in stack.processes:  # ML is optional
            continue
        text = httpx.get(f"{stack.processes[name].url}/metrics").text
        frozen = [
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "gc_frozen_objects"
        ]
        print(f"{name}: {frozen} objects frozen")
        assert frozen and frozen[0] > 50_000


def test_the_websockets_are_not_compressed(stack: Stack) -> None:
    """A client that offers permessage-deflate (as browsers and `websockets` do) gets plain
    frames from ingest and the scanner: compressing every message would cost both ends CPU
    on the latency path (TITAN_WS_COMPRESSION turns it on)."""
    for name, path in (("ingest", "/ws/pools"), ("scanner", "/ws/opportunities")):
        url = stack.processes[name].url.replace("http://", "ws://", 1) + path
        with ws_connect(url, open_timeout=10, max_size=None) as socket:
            assert socket.request is not None and socket.response is not None
            offered = socket.request.headers.get("Sec-WebSocket-Extensions", "")
            accepted = socket.response.headers.get("Sec-WebSocket-Extensions")
            print(f"{name}: offered {offered!r}, accepted {accepted!r}")
            assert "permessage-deflate" in offered and accepted is None


def test_busy_blocks_are_priced_with_all_their_logs(stack: Stack) -> None:
    """Blocks of up to 24 swaps each, a second apart: a block's logs reach the scanner in a
    burst, and the scanner must wait for the last one (ingest's block marker) before pricing."""
    devnet = stack.devnet
    start = devnet.w3.eth.block_number + 1
    with _interval_mining(devnet, 1), devnet.flow(seed=5, pause=1.0):
        wait_until(
            lambda: _proven(stack, start, 40, blocks=10),
            240,
            "40 opportunities in 10 blocks proven on the chain",
        )
    time.sleep(1.0)
    _check_proofs(stack, start, "1 s blocks")


def _sibling_pair(devnet: Any) -> tuple[dict[str, Any], dict[str, Any], str]:
    weth = devnet.token("WETH")["address"]
    v2 = [
        p
        for p in devnet.manifest["pools"]
        if p["kind"] == "v2" and weth in (p["token0"], p["token1"])
    ]
    for pool in v2:
        pair = {pool["token0"], pool["token1"]}
        for other in devnet.manifest["pools"]:
            if other["address"] != pool["address"] and {other["token0"], other["token1"]} == pair:
                return pool, other, weth
    raise AssertionError("the scenario has no WETH pair on two pools")


def test_big_swap_is_found_in_its_block(stack: Stack) -> None:
    devnet = stack.devnet
    pool, _, weth = _sibling_pair(devnet)
    zero_for_one = pool["token0"] == weth  # sell WETH into the pool: WETH gets cheap there
    usd = 0.08 * float(pool.get("liquidity_usd", 2_000_000))
    receipt = devnet.big_swap(pool["address"], usd, zero_for_one=zero_for_one)
    block = receipt["blockNumber"]

    def found() -> list[dict[str, Any]]:
        items = stack.all_opportunities(block_from=block, block_to=block)
        return [o for o in items if any(h["pool"] == pool["address"] for h in o["hops"])]

    hits = wait_until(found, 15, f"an opportunity through {pool['address']} at block {block}")
    best = max(hits, key=lambda o: int(o["net_profit"]))
    path = [(h["pool"], h["token_in"], h["token_out"]) for h in best["hops"]]
    print(f"big swap at block {block}: best path {path}, net {best['net_profit']}")
    # WETH got cheap in the swapped pool: the cycle buys it back there, as its last hop.
    last = best["hops"][-1]
    assert last["pool"] == pool["address"] and last["token_out"] == weth
    assert best["block_number"] == block
    proven = wait_until(
        lambda: (
            stack.get(f"/api/opportunities/{best['id']}").json()["verification"]["status"]
            in ("verified", "mismatch", "failed")
            and stack.get(f"/api/opportunities/{best['id']}").json()
        ),
        40,  # the chain mines nothing more: the proof waits out HEAD_WAIT_S at its head
        "the big-swap opportunity proven",
    )
    assert proven["verification"]["status"] == "verified"
    assert int(proven["verification"]["realized_amount_out"]) == int(best["amount_out"])


def _published(stack: Stack) -> int:
    return int(_stats(stack)["opportunities_published"])


def test_degrades_and_recovers_without_restart(stack: Stack) -> None:
    devnet = stack.devnet
    scanner_pid = stack.processes["scanner"].proc.pid  # type: ignore[union-attr]
    with devnet.flow(seed=23, pause=0.05):
        wait_until(lambda: _published(stack) > 0, 60, "opportunities before the faults")

        # Engine down: nothing is published, /ready says why; back: opportunities resume.
        stack.processes["engine"].kill()
        down = wait_until(
            lambda: stack.get("/ready").status_code == 503 and stack.get("/ready").json(),
            15,
            "/ready naming the engine",
        )
        assert (
            down["checks"]["engine"].startswith("down")
            and "no opportunities" in down["checks"]["engine"]
        )
        time.sleep(1.0)
        frozen = _published(stack)
        time.sleep(2.0)
        assert _published(stack) == frozen
        stack.processes["engine"].start()
        wait_until(lambda: stack.get("/ready").status_code == 200, 20, "ready after the engine")
        wait_until(lambda: _published(stack) > frozen, 60, "opportunities after the engine")

        # ML down: the default action (marked) and a gas price from the chain or stale.
        if "ml" in stack.processes:
            stack.processes["ml"].kill()
            wait_until(
                lambda: _stats(stack)["dependencies"]["ml"].startswith("down"), 15, "ml down"
            )
            assert stack.get("/ready").status_code == 200  # degraded, not unready
            mark = _published(stack)
            wait_until(lambda: _published(stack) > mark, 60, "opportunities without ML")
            newest = stack.get("/api/opportunities", limit=1).json()["items"][0]
            assert newest["action"]["source"] == "default"
            assert _stats(stack)["gas"]["source"] in ("fee_history", "ml_stale")
            assert _stats(stack)["policy"]["defaulted"] >= 1
            stack.processes["ml"].start()
            wait_until(lambda: _stats(stack)["dependencies"]["ml"] == "ok", 20, "ml back")

        # Ingest down: not ready, names it; back: reconnects, resyncs, publishes again.
        connects = _stats(stack)["ingest"]["connects"]
        stack.processes["ingest"].kill()
        wait_until(
            lambda: stack.get("/ready").json()["checks"]["ingest"].startswith("down"),
            15,
            "/ready naming ingest",
        )
        stack.processes["ingest"].start()
        wait_until(lambda: stack.get("/ready").status_code == 200, 60, "ready after ingest")
        assert _stats(stack)["ingest"]["connects"] > connects
        mark = _published(stack)
        wait_until(lambda: _published(stack) > mark, 60, "opportunities after ingest")
    assert stack.processes["scanner"].proc.pid == scanner_pid  # type: ignore[union-attr]
