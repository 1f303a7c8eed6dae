"""Scanner benchmarks: screening, index build, and the in-process pipeline latency.

    uv run python services/scanner/bench/bench_scanner.py [--pools 10000] [--json out.json]

- screening: re-screen every cycle of an index of >= 10,000 cycles (goal <= 5 ms);
- index build: the cycle index for 10,000 pools (goal <= 5 s);
- pipeline: from an update's arrival to the opportunity published, through the real stages
  with a stand-in engine answering in process (the scanner's own share of the latency; the
  integration tests measure it with every service real).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from titan_common.models import BlockComplete, PoolUpdate
from titan_scanner.cycles import CycleIndex, Screener
from titan_scanner.graph import PoolInfo
from titan_scanner.testing import FakeEngine, FakeMl, PoolFactory, wait_for


def synthetic_pools(
    n: int, seed: int = 7, v3_share: float = 0.25
) -> tuple[PoolFactory, list[Any], str]:
    """`n` pools over about n/15 tokens: a few hubs paired widely, the rest sparsely, as on
    real chains; several DEXes and fee tiers per popular pair. Every pool sits at its tokens'
    fair price within 0.1 %, so the market starts without arbitrage."""
    rng = random.Random(seed)
    f = PoolFactory()
    tokens = [f.token(i) for i in range(max(20, n // 15))]
    fair = {t: rng.uniform(0.2, 5.0) for t in tokens}
    weth, hubs = tokens[0], tokens[1:6]
    dexes = ["uniswap_v2", "sushiswap", "quickswap"]
    states: list[Any] = []
    while len(states) < n:
        r = rng.random()
        a = weth if r < 0.35 else rng.choice(hubs) if r < 0.6 else rng.choice(tokens)
        b = rng.choice(tokens)
        if a == b:
            continue
        reserve = 10**18 * rng.randint(100, 10_000)
        price = fair[a] / fair[b] * rng.uniform(0.999, 1.001)  # b per a
        if rng.random() >= v3_share:
            states.append(f.v2(a, b, reserve, int(reserve * price), dex=rng.choice(dexes)))
        else:
            states.append(f.v3(a, b, price, reserve, fee=rng.choice([500, 3000, 10000])))
    return f, states, weth


def bench_index(n: int, max_per_pool: int) -> dict[str, Any]:
    _, states, weth = synthetic_pools(n)
    infos = [PoolInfo.from_state(s) for s in states]
    started = time.perf_counter()
    index = CycleIndex([weth], max_per_pool=max_per_pool)
    cycles = index.build(infos)
    screener = Screener()
    screener.add_cycles(cycles)
    for state in states:
        screener.update_pool(state)
    screener.screen(screener.cycles_touching(index.pools()))  # materialise the matrices
    seconds = time.perf_counter() - started
    return {"pools": n, "cycles": len(index), "build_s": round(seconds, 3)}


def bench_screen(n_cycles: int, max_per_pool: int) -> dict[str, Any]:
    pools = 2000
    while True:
        _, states, weth = synthetic_pools(pools)
        index = CycleIndex([weth], max_per_pool=max_per_pool)
        cycles = index.build(PoolInfo.from_state(s) for s in states)
        if len(cycles) >= n_cycles:
            break
        pools *= 2
    screener = Screener()
    screener.add_cycles(cycles)
    for state in states:
        screener.update_pool(state)
    all_ids = screener.cycles_touching(index.pools())[:n_cycles]
    screener.screen(all_ids)
    runs = []
    for _ in range(200):
        started = time.perf_counter()
        screener.screen(all_ids)
        runs.append((time.perf_counter() - started) * 1000)
    touched = []  # the per-block path: the cycles of 50 changed pools, found then screened
    some = random.Random(1).sample(index.pools(), min(50, len(index.pools())))
    for _ in range(200):
        started = time.perf_counter()
        screener.screen(screener.cycles_touching(some))
        touched.append((time.perf_counter() - started) * 1000)
    return {
        "cycles": len(all_ids),
        "screen_all_ms_p50": round(statistics.median(runs), 3),
        "screen_all_ms_max": round(max(runs), 3),
        "touch_50_pools_ms_p50": round(statistics.median(touched), 3),
    }


async def bench_pipeline(blocks: int, pools: int) -> dict[str, Any]:
    from titan_scanner.app import create_app
    from titan_scanner.settings import ScannerSettings

    _, states, weth = synthetic_pools(pools, v3_share=0.0)  # the stand-in engine is V2 only
    engine, ml = FakeEngine(), FakeMl()
    with tempfile.TemporaryDirectory() as tmp:
        settings = ScannerSettings(
            database_url=f"sqlite:///{tmp}/bench.db",
            base_tokens=[weth],
            scanner_native_token=weth,
            use_real_data=False,
        )
        transports: dict[str, httpx.AsyncBaseTransport] = {
            "engine": engine.transport(),
            "ml": ml.transport(),
        }
        app = create_app(settings, transports, start_source=False)
        async with app.router.lifespan_context(app):
            scanner = app.state.runtime.scanner
            v2 = [s for s in states if s.kind == "v2"]
            for i, state in enumerate(states):
                scanner.on_update(
                    PoolUpdate(chain_id=31337, pool=state, block_number=1, log_index=i)
                )
            scanner.on_block(BlockComplete(chain_id=31337, block_number=1))
            await wait_for(lambda: scanner._jobs.empty(), within=60)
            await asyncio.sleep(0.2)
            before = scanner.stats.published
            scanner.stats.latencies_ms.clear()
            rng = random.Random(3)
            for block in range(2, blocks + 2):
                now = time.time()
                for log, state in enumerate(rng.sample(v2, 5)):  # five swaps a block
                    moved = state.model_copy(
                        update={"reserve1": state.reserve1 * rng.randint(1005, 1040) // 1000}
                    )
                    scanner.on_update(
                        PoolUpdate(
                            chain_id=31337,
                            pool=moved,
                            block_number=block,
                            log_index=log,
                            received_at=now,
                        )
                    )
                scanner.on_block(BlockComplete(chain_id=31337, block_number=block, received_at=now))
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            latency = scanner.stats.latency()
            return {
                "pools": pools,
                "cycles": len(scanner.index),
                "blocks": blocks,
                "opportunities": scanner.stats.published - before,
                "latency_p50_ms": latency["p50_ms"],
                "latency_p99_ms": latency["p99_ms"],
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pools", type=int, default=10_000)
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--max-per-pool", type=int, default=200)
    parser.add_argument("--pipeline-pools", type=int, default=1000)
    parser.add_argument("--blocks", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = {
        "index_build": bench_index(args.pools, args.max_per_pool),
        "screening": bench_screen(args.cycles, args.max_per_pool),
        "pipeline_in_process": asyncio.run(bench_pipeline(args.blocks, args.pipeline_pools)),
    }
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
