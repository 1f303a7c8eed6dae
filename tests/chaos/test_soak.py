"""The soak: the market flow at its highest rate (its own process, no pause, a block per swap)
for `CHAOS_SOAK_SECONDS` (600 in `make test-chaos`; shorter only when asked for). Each
service's memory must stay flat, ingest must not fall further and further behind, and the
logs must hold no error beyond the expected ones."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
from chaos.checks import event_name, head, ingest_stats, log_events, rss_mb
from chaos.flow import FlowProcess

from titan_scanner.stack import wait_until

pytestmark = [pytest.mark.devnet, pytest.mark.slow]

SOAK_S = float(os.environ.get("CHAOS_SOAK_SECONDS", "600"))
WARM_UP_S = min(60.0, SOAK_S / 5)  # caches, pools of threads and connections fill first
SAMPLE_S = 5.0
# Errors a soak may log: none. (Each fault test owns the errors its fault causes.)
EXPECTED_ERRORS: set[str] = set()
# Flat memory: growth after the warm-up within this much (the verification queue, the
# history's pages and the recent windows are bounded, and fill during the soak).
GROWTH_MB = 150.0


def _log_offsets(logs: Path) -> dict[str, int]:
    return {log.name: log.stat().st_size for log in logs.glob("*.log")}


def _new_errors(logs: Path, offsets: dict[str, int]) -> dict[str, int]:
    """Error and critical lines each log got since `offsets`, counted by event."""
    found: dict[str, int] = {}
    for log in logs.glob("*.log"):
        tail = log.parent / f".{log.name}.soak"
        with log.open("rb") as source:
            source.seek(offsets.get(log.name, 0))
            tail.write_bytes(source.read())
        for entry in log_events(tail):
            key = f"{log.stem}: {event_name(entry)[:120]}"
            found[key] = found.get(key, 0) + 1
        tail.unlink()
    return found


@pytest.mark.timeout(SOAK_S + 600)
def test_soak_at_the_flows_highest_rate(chaos: Any) -> None:
    stack, devnet = chaos.stack, chaos.devnet
    wait_until(lambda: stack.get("/ready").status_code == 200, 60, "scanner ready")
    chaos.flow.pause()
    devnet.rpc("evm_setIntervalMining", 0)
    devnet.rpc("evm_setAutomine", True)
    offsets = _log_offsets(chaos.logs)
    pids = {name: p.proc.pid for name, p in stack.processes.items() if p.proc is not None}
    rss_start = {name: rss_mb(pid) for name, pid in pids.items()}
    first_block, _ = head(devnet)
    published = stack.get("/api/stats").json()["opportunities_published"]
    flow = FlowProcess(devnet.rpc_url, devnet.manifest, seed=97, pause=0.0).start()
    lags: list[tuple[float, int]] = []
    rss_warm: dict[str, float] = {}
    started = time.monotonic()
    try:
        while (elapsed := time.monotonic() - started) < SOAK_S:
            time.sleep(SAMPLE_S)
            lags.append((elapsed, int(ingest_stats(stack)["lag_blocks"])))
            if not rss_warm and elapsed >= WARM_UP_S:
                rss_warm = {name: rss_mb(pid) for name, pid in pids.items()}
            for name, process in stack.processes.items():
                assert process.proc is not None and process.proc.poll() is None, f"{name} died"
    finally:
        flow.stop()
        devnet.rpc("evm_setAutomine", False)
        devnet.rpc("evm_setIntervalMining", chaos.block_time)
        chaos.flow.resume()
    rss_end = {name: rss_mb(pid) for name, pid in pids.items()}
    blocks = head(devnet)[0] - first_block
    published = stack.get("/api/stats").json()["opportunities_published"] - published
    ingest = ingest_stats(stack)
    quarter = max(1, len(lags) // 4)
    early = statistics.fmean(lag for _, lag in lags[:quarter])
    late = statistics.fmean(lag for _, lag in lags[-quarter:])
    errors = _new_errors(chaos.logs, offsets)
    chaos.report(
        f"[soak {SOAK_S:.0f} s, flow without pause] {blocks} blocks "
        f"({blocks / SOAK_S:.1f}/s), {flow.steps} flow steps, {published} opportunities "
        f"published; ingest lag blocks: mean {early:.1f} in the first quarter, {late:.1f} in "
        f"the last, max {max(lag for _, lag in lags)}; ingest events applied "
        f"{ingest['events_applied']}"
    )
    for name in pids:
        chaos.report(
            f"[soak] RSS {name}: {rss_start[name]:.0f} MB at the start, "
            f"{rss_warm.get(name, rss_start[name]):.0f} MB after {WARM_UP_S:.0f} s, "
            f"{rss_end[name]:.0f} MB at the end"
        )
    chaos.report(f"[soak] error lines in the logs: {errors or 'none'}")
    unexpected = {k: n for k, n in errors.items() if k.split(": ", 1)[1] not in EXPECTED_ERRORS}
    assert not unexpected, unexpected
    assert late <= early + 5, f"ingest falls behind: lag {early:.1f} -> {late:.1f} blocks"
    for name in pids:
        base = rss_warm.get(name, rss_start[name])
        assert rss_end[name] <= base + GROWTH_MB, f"{name} grew {base} -> {rss_end[name]} MB"
