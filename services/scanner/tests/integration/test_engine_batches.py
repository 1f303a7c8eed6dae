"""The engine batch against the real engine: a batch past the engine's body limit is split in
halves until each part fits, and answers as one unlimited request would."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from titan_common.clients import EngineClient
from titan_common.models import Tick
from titan_scanner.cycles.index import Cycle, CycleHop
from titan_scanner.pricing.engine import CycleFailure, CycleQuote, evaluate
from titan_scanner.stack import Process, free_port
from titan_scanner.testing import PoolFactory

pytestmark = pytest.mark.slow

LIMIT = 3000  # bytes: a few two-hop V2 cycles per request


def _engine(tmp_path: Path, name: str, env: dict[str, str]) -> Process:
    engine_bin = os.environ.get("ENGINE_BIN")
    if not engine_bin or not Path(engine_bin).is_file():
        pytest.skip("ENGINE_BIN is not a built engine binary")
    port = free_port()
    process = Process(
        name,
        [engine_bin],
        {"RUST_SERVER_PORT": str(port), **env},
        f"http://127.0.0.1:{port}",
        tmp_path / f"{name}.log",
    )
    process.start()
    return process


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[tuple[Process, Process]]:
    limited = _engine(tmp_path, "limited", {"ENGINE_MAX_BODY_BYTES": str(LIMIT)})
    try:
        unlimited = _engine(tmp_path, "unlimited", {})
    except BaseException:
        limited.stop()
        raise
    try:
        yield limited, unlimited
    finally:
        limited.stop()
        unlimited.stop()


@pytest.fixture
async def clients(engines: tuple[Process, Process]) -> AsyncIterator[tuple[EngineClient, ...]]:
    pair = tuple(EngineClient(p.url, timeout=10.0) for p in engines)
    try:
        yield pair
    finally:
        for client in pair:
            await client.aclose()


def _market() -> tuple[list[Cycle], dict[str, dict[str, Any]]]:
    """Two-hop cycles WETH -> token -> WETH over pairs of V2 pools a little apart in price, and
    one cycle through a V3 pool with so many ticks that it alone is past the limit."""
    pools = PoolFactory()
    weth = pools.token(0)
    wire: dict[str, dict[str, Any]] = {}
    cycles: list[Cycle] = []
    for n in range(1, 31):
        token = pools.token(n)
        cheap = pools.v2(weth, token, 1000 * 10**18, 2_000_000 * 10**18)
        dear = pools.v2(weth, token, 1000 * 10**18, (2_000_000 + 5_000 * n) * 10**18)
        for pool in (cheap, dear):
            wire[pool.address] = pool.model_dump(mode="json")
        hops = (  # WETH buys the most token where token is most plentiful
            CycleHop(dear.address, dear.token0 == weth, weth, token),
            CycleHop(cheap.address, cheap.token0 != weth, token, weth),
        )
        cycles.append(Cycle(len(cycles), weth, hops))
    token = pools.token(99)
    v2 = pools.v2(weth, token, 1000 * 10**18, 1000 * 10**18)
    ticks = [Tick(index=i * 60, liquidity_net=1) for i in range(-100, 100)]
    v3 = pools.v3(weth, token, 1.0, 10**24).model_copy(update={"ticks": ticks})
    for pool in (v2, v3):
        wire[pool.address] = pool.model_dump(mode="json")
    hops = (
        CycleHop(v2.address, v2.token0 == weth, weth, token),
        CycleHop(v3.address, v3.token0 != weth, token, weth),
    )
    cycles.insert(7, Cycle(len(cycles), weth, hops))
    return cycles, wire


def _statuses(url: str) -> dict[str, int]:
    routes = httpx.get(f"{url}/api/metrics").json()["routes"]
    counts: dict[str, int] = routes.get("/api/routes/evaluate", {}).get("by_status", {})
    return counts


async def test_a_batch_past_the_body_limit_answers_as_one_unlimited_request(
    engines: tuple[Process, Process], clients: tuple[EngineClient, EngineClient]
) -> None:
    cycles, wire = _market()
    limited, unlimited = clients
    split = await evaluate(limited, cycles, wire.__getitem__, batch_max=1000)
    whole = await evaluate(unlimited, cycles, wire.__getitem__, batch_max=1000)
    assert len(split) == len(whole) == len(cycles)
    oversized = split.pop(7)
    whole.pop(7)
    assert isinstance(oversized, CycleFailure) and oversized.code == "payload_too_large"
    assert split == whole
    profitable = [a for a in split if isinstance(a, CycleQuote) and a.gross_profit > 0]
    assert len(profitable) >= 20, split
    statuses = _statuses(engines[0].url)
    print(f"limited engine ({LIMIT} bytes): {len(cycles)} cycles, evaluate answers {statuses}")
    assert int(statuses.get("413", 0)) > 0 and int(statuses.get("200", 0)) >= 4
