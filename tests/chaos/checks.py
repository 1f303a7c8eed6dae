"""What the fault tests assert, read from outside the services: ingest's pools against the
chain at the same block, the scanner's proofs, the services' logs and memory."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from titan_devnet.pool_state import read_pool_state
from titan_devnet.testing import Devnet
from titan_scanner.stack import Stack

STATE_KEYS = {
    "v2": ("reserve0", "reserve1"),
    "v3": ("sqrt_price_x96", "tick", "liquidity", "ticks"),
}


def ingest_stats(stack: Stack) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{stack.processes['ingest'].url}/api/stats", timeout=5).json()
    return body


def head(devnet: Devnet) -> tuple[int, str]:
    block = devnet.w3.eth.get_block("latest")
    return int(block["number"]), "0x" + bytes(block["hash"]).hex()


def pool_differences(stack: Stack, devnet: Devnet) -> tuple[int, int, list[str]]:
    """(block, pools compared, differences) between ingest's pools and the chain at the block
    ingest says its state is at, or an empty comparison when ingest is not at the chain's head
    (still catching up: the caller waits)."""
    chain_block, _ = head(devnet)
    body = httpx.get(f"{stack.processes['ingest'].url}/api/pools", timeout=10).json()
    block = int(body["block_number"])
    if block != chain_block:
        return block, 0, [f"ingest at block {block}, the chain at {chain_block}"]
    ours = {p["address"]: p for p in body["pools"]}
    diffs = []
    for pool in devnet.manifest["pools"]:
        have = ours.get(pool["address"])
        if have is None:
            diffs.append(f"{pool['address']} missing from ingest")
            continue
        truth = read_pool_state(devnet.rpc_url, pool, block)
        for key in STATE_KEYS[pool["kind"]]:
            if have[key] != truth[key]:
                diffs.append(f"{pool['address']} {key}: chain {truth[key]!r} ingest {have[key]!r}")
        if have["block_number"] > block:
            diffs.append(f"{pool['address']} at block {have['block_number']} > {block}")
    return block, len(ours), diffs


def assert_ingest_equals_chain(
    stack: Stack, devnet: Devnet, flow: Any, timeout: float = 60.0
) -> tuple[int, int]:
    """With the flow paused, wait (up to `timeout`) until every pool ingest holds equals the
    chain's state at the chain's head block, then resume the flow. Returns (block, pools)."""
    flow.pause()
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                block, pools, diffs = pool_differences(stack, devnet)
            except httpx.HTTPError as exc:
                block, pools, diffs = -1, 0, [f"ingest: {exc!r}"]
            if not diffs:
                print(f"ingest equals the chain: {pools} pools at block {block}")
                return block, pools
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"ingest differs from the chain after {timeout} s at block {block}:\n"
                    + "\n".join(diffs[:20])
                )
            time.sleep(0.5)
    finally:
        flow.resume()


def history_ids(stack: Stack) -> set[str]:
    """Every opportunity id in the scanner's history (pages of 500; a long history on a
    busy machine answers slower than `Stack.get` waits)."""
    ids: set[str] = set()
    cursor = None
    with httpx.Client(base_url=stack.scanner, timeout=60) as client:
        while True:
            query = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            body = client.get("/api/opportunities", params=query).json()
            ids.update(o["id"] for o in body["items"])
            cursor = body["next"]
            if cursor is None:
                return ids


def verification_counts(items: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in items:
        status = o["verification"]["status"]
        counts[status] = counts.get(status, 0) + 1
    return counts


def log_events(log: Path, levels: tuple[str, ...] = ("error", "critical")) -> list[dict[str, Any]]:
    """The JSON log lines of these levels (the engine writes `level` in capitals)."""
    found: list[dict[str, Any]] = []
    if not log.exists():
        return found
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if str(entry.get("level", "")).lower() in levels:
            found.append(entry)
    return found


def event_name(entry: dict[str, Any]) -> str:
    """A log line's event: structlog's `event`, or the engine's `fields.message`."""
    fields = entry.get("fields")
    message = fields.get("message") if isinstance(fields, dict) else None
    return str(entry.get("event") or message or entry)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise ValueError(f"no VmRSS for {pid}")
