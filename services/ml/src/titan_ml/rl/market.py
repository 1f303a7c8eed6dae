"""Arbitrage opportunities replayed from the real USDC/WETH 0.05 % and 0.30 % pool events.

After every swap in either pool the two pools' states are compared; where selling WETH in the
dearer pool and buying it back in the cheaper one pays more than both fees (a gap), the round
trip's optimal size and gross profit are found with exact in-band V3 pricing. Each gap keeps
the next real state pair too, for a trade that lands one event late; `opportunity` prices both
at every size fraction of the agent.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from titan_ml.rl.opportunity import GAS_UNITS, Opportunity
from titan_ml.rl.pricing import PoolSnapshot, price_token1_per_token0, quote_exact_input
from titan_ml.rl.state import SIZE_FRACTIONS, part_of

# (fee in pips, tick spacing) of the two shipped pools, in the order of settings.POOL_FILES.
POOL_PARAMS = ((500, 10), (3000, 60))
MIN_SIZE_WEI = 10**15  # 0.001 WETH


@dataclass(frozen=True)
class Event:
    block_number: int
    log_index: int
    pools: tuple[PoolSnapshot, PoolSnapshot]


@dataclass(frozen=True)
class Gap:
    index: int  # position in the event stream
    block_number: int
    sell_pool: int  # where WETH is sold (dearer), 0 or 1
    size_wei: int  # optimal WETH in
    gross_wei: int  # WETH out - WETH in at that size
    spread_bps: float  # gross / size, after pool fees, before gas
    now: tuple[PoolSnapshot, PoolSnapshot]
    late: tuple[PoolSnapshot, PoolSnapshot] | None  # the next real states


def _swaps(
    path: Path, fee: int, spacing: int, pool: int
) -> list[tuple[int, int, int, PoolSnapshot]]:
    out = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["tx_type"] != "SWAP":
                continue
            snap = PoolSnapshot(
                int(row["sqrtPriceX96"]),
                int(float(row["current_tick"])),
                int(row["total_liquidity"]),
                fee,
                spacing,
            )
            out.append((int(row["block_number"]), int(row["log_index"]), pool, snap))
    return out


def load_events(paths: tuple[Path, Path]) -> list[Event]:
    """Both pools' states after each swap in either, from the first block both have a state."""
    rows = []
    for pool, (path, (fee, spacing)) in enumerate(zip(paths, POOL_PARAMS, strict=True)):
        rows += _swaps(path, fee, spacing, pool)
    rows.sort(key=lambda r: (r[0], r[1]))
    state: list[PoolSnapshot | None] = [None, None]
    events = []
    for block, log_index, pool, snap in rows:
        state[pool] = snap
        if state[0] is not None and state[1] is not None:
            events.append(Event(block, log_index, (state[0], state[1])))
    return events


def round_trip(pools: tuple[PoolSnapshot, PoolSnapshot], sell: int, size: int) -> int | None:
    """WETH profit (may be negative) of selling `size` WETH in `sell` and buying back in the other."""
    usdc = quote_exact_input(pools[sell], False, size)  # token1 (WETH) in
    if usdc is None or usdc <= 0:
        return None
    weth = quote_exact_input(pools[1 - sell], True, usdc)
    return None if weth is None else weth - size


def best_size(pools: tuple[PoolSnapshot, PoolSnapshot], sell: int) -> tuple[int, int]:
    """(size, gross) maximising the round trip within both exact bands; (0, 0) if none pays."""
    hi = MIN_SIZE_WEI
    while round_trip(pools, sell, hi * 2) is not None and hi < 10**24:
        hi *= 2
    if round_trip(pools, sell, hi) is None:
        return 0, 0
    ok, bad = hi, hi * 2  # the band's capacity lies between: bisect it
    while bad - ok > 10**12:
        mid = (ok + bad) // 2
        ok, bad = (mid, bad) if round_trip(pools, sell, mid) is not None else (ok, mid)
    hi, lo = ok, MIN_SIZE_WEI
    for _ in range(48):  # ternary search: profit is concave in size
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        if (round_trip(pools, sell, m1) or 0) < (round_trip(pools, sell, m2) or 0):
            lo = m1
        else:
            hi = m2
        if hi - lo < 10**12:
            break
    gross = round_trip(pools, sell, lo) or 0
    return (lo, gross) if gross > 0 else (0, 0)


def find_gaps(events: list[Event]) -> list[Gap]:
    out = []
    for i, ev in enumerate(events):
        p0, p1 = (price_token1_per_token0(p) for p in ev.pools)
        sell = 0 if p0 < p1 else 1  # fewer WETH per USDC: WETH is dearer there
        cheap, dear = max(p0, p1), min(p0, p1)
        fees = (1 - ev.pools[0].fee / 1e6) * (1 - ev.pools[1].fee / 1e6)
        if cheap / dear * fees <= 1.0:
            continue
        size, gross = best_size(ev.pools, sell)
        if size == 0:
            continue
        late = events[i + 1].pools if i + 1 < len(events) else None
        out.append(Gap(i, ev.block_number, sell, size, gross, gross / size * 1e4, ev.pools, late))
    return out


def opportunity(gap: Gap, gas_price_wei: float) -> Opportunity:
    """The gap as the agent trades it: each size fraction's round trip now and one event late."""
    sizes = [max(part_of(gap.size_wei, f), 1) for f in SIZE_FRACTIONS]
    first = tuple(round_trip(gap.now, gap.sell_pool, s) for s in sizes)
    late = (
        None if gap.late is None else tuple(round_trip(gap.late, gap.sell_pool, s) for s in sizes)
    )
    return Opportunity(
        gap.block_number, gap.size_wei, gap.gross_wei, GAS_UNITS, gas_price_wei, first, late
    )
