"""The node fails under ingest while the market flow runs: its WebSocket is cut, then the node
itself stops for 10 s and comes back with the same chain. Ingest must reconnect, backfill and
hold exactly the chain's state, and nothing the scanner publishes meanwhile may be priced on a
stale state: each opportunity is proven by eth_call at its block (SCANNER_VERIFY=all)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from chaos.checks import (
    assert_ingest_equals_chain,
    head,
    ingest_stats,
    verification_counts,
)
from chaos.flow import wait_steps
from chaos.node import start_node, stop_node

from titan_scanner.stack import wait_until

pytestmark = [pytest.mark.devnet, pytest.mark.slow]

RECOVERY_S = 60.0  # generous: a recovery deadline, not a timing assertion


def _caught_up(chaos: Any) -> dict[str, Any] | None:
    stats = ingest_stats(chaos.stack)
    number, _ = head(chaos.devnet)
    return stats if stats["connected"] and stats["complete_block"] >= number else None


def _proofs_settled(chaos: Any, since: int, until: int) -> list[dict[str, Any]] | None:
    items = chaos.stack.all_opportunities(block_from=since, block_to=until)
    return items if items and all(o["verification"]["status"] != "pending" for o in items) else None


def _assert_proven(chaos: Any, since: int, label: str) -> None:
    """Every opportunity from block `since` to now was proven at its block, none differing."""
    until, _ = head(chaos.devnet)
    items = wait_until(lambda: _proofs_settled(chaos, since, until), RECOVERY_S, "every proof in")
    counts = verification_counts(items)
    chaos.report(
        f"[{label}] opportunities in blocks {since}-{until}: {len(items)}, proofs {counts}"
    )
    chaos.assert_exact(items)
    assert counts.get("verified", 0) > 0


def test_node_websocket_cut_mid_flow(chaos: Any) -> None:
    stack, proxy = chaos.stack, chaos.proxies["node_ws"]
    wait_until(lambda: stack.get("/ready").status_code == 200, RECOVERY_S, "scanner ready")
    since, _ = head(chaos.devnet)
    reconnects = ingest_stats(stack)["reconnects"]
    wait_steps(chaos.flow, 5)
    proxy.cut()  # no close handshake: a dropped network; the flow goes on without ingest
    wait_steps(chaos.flow, 10)
    cut_blocks = head(chaos.devnet)[0] - since
    proxy.restore()
    restored = time.monotonic()
    stats = wait_until(lambda: _caught_up(chaos), RECOVERY_S, "ingest back at the head")
    recovery = time.monotonic() - restored
    assert stats["reconnects"] > reconnects
    block, pools = assert_ingest_equals_chain(stack, chaos.devnet, chaos.flow)
    chaos.report(
        f"[node WS cut] {cut_blocks} blocks while cut; ingest at the head {recovery:.1f} s after "
        f"the link came back (reconnects {stats['reconnects']}, backfilled blocks "
        f"{stats['backfilled_blocks']}); {pools} pools equal the chain at block {block}"
    )
    wait_steps(chaos.flow, 10)
    _assert_proven(chaos, since, "node WS cut")


def test_node_stopped_10_s_and_restarted_with_its_chain(chaos: Any) -> None:
    stack, devnet, flow = chaos.stack, chaos.devnet, chaos.flow
    wait_until(lambda: stack.get("/ready").status_code == 200, RECOVERY_S, "scanner ready")
    since, _ = head(devnet)
    wait_steps(flow, 5)
    flow.pause()  # the dump then holds every block mined: the node restarts where it stopped
    stopped_at, stopped_hash = head(devnet)
    stop_node(devnet, chaos.logs / "node-state.json")
    flow.resume()  # its swaps fail while the node is down; it tries again
    down_since = time.monotonic()
    seen_down = False
    while time.monotonic() - down_since < 10.0:
        stats = ingest_stats(stack)
        seen_down = seen_down or not stats["connected"]
        time.sleep(0.5)
    start_node(devnet, chaos.logs / "node-state.json", chaos.block_time)
    started = time.monotonic()
    # The same chain: the block the node stopped at is still there, with its hash.
    block = devnet.w3.eth.get_block(stopped_at)
    assert "0x" + bytes(block["hash"]).hex() == stopped_hash
    stats = wait_until(lambda: _caught_up(chaos), RECOVERY_S, "ingest back at the head")
    recovery = time.monotonic() - started
    wait_until(lambda: stack.get("/ready").status_code == 200, RECOVERY_S, "scanner ready again")
    assert seen_down, "ingest never noticed the node was gone"
    block_now, pools = assert_ingest_equals_chain(stack, devnet, flow)
    chaos.report(
        f"[node stopped 10 s] ingest at the head {recovery:.1f} s after the node came back "
        f"(flow steps failed meanwhile: {flow.failures}); {pools} pools equal the chain at "
        f"block {block_now}"
    )
    wait_steps(flow, 10)
    _assert_proven(chaos, since, "node stopped 10 s")
