"""Writes shared/vectors/*.json from the reference math: `uv run python shared/tests/unit/pool_math/make_vectors.py`."""

import json
import random
from pathlib import Path

from titan_common.pool_math import PoolMathError, PoolState, swap, v2
from titan_common.pool_math.v3.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)

random.seed(7)

VECTORS = Path(__file__).resolve().parents[4] / "shared" / "vectors"
SRC = "titan_common.pool_math (plain-Python port of {}); to be confirmed against the deployed contracts on the devnet"


def case(name, inp, fn):
    try:
        return {"name": name, "input": inp, "expected": fn()}
    except PoolMathError as e:
        return {"name": name, "input": inp, "error": {"code": e.code}}


cases = []


def v2c(name, f, a, ri, ro, fee=30):
    inp = {
        "function": f,
        "amount": str(a),
        "reserve_in": str(ri),
        "reserve_out": str(ro),
        "fee_bps": fee,
    }
    cases.append(case(name, inp, lambda: {"amount": str(getattr(v2, f)(a, ri, ro, fee))}))


M112 = (1 << 112) - 1
v2c("out_1_eth_classic", "get_amount_out", 10**18, 100 * 10**18, 200000 * 10**18)
v2c("out_one_wei", "get_amount_out", 1, 10**18, 10**18)
v2c("out_zero_reverts", "get_amount_out", 0, 10**18, 10**18)
v2c("out_zero_reserve", "get_amount_out", 5, 0, 10**18)
v2c("out_reserve_past_uint112", "get_amount_out", 5, M112 + 1, 10**18)
v2c("out_max_reserves", "get_amount_out", 10**30, M112, M112)
v2c("out_overflow", "get_amount_out", (1 << 256) - 1, 10**18, 10**18)
v2c("out_fee_25_bps", "get_amount_out", 10**18, 10**21, 10**21, 25)
v2c("in_classic", "get_amount_in", 10**18, 100 * 10**18, 200000 * 10**18)
v2c("in_output_equals_reserve", "get_amount_in", 10**18, 10**18, 10**18)
v2c("in_zero_reverts", "get_amount_in", 0, 10**18, 10**18)
for i in range(20):
    ri, ro = random.randint(1, M112), random.randint(1, M112)
    a = random.randint(1, ri)
    v2c(f"random_out_{i}", "get_amount_out", a, ri, ro, random.choice([30, 25, 30, 100]))
    v2c(f"random_in_{i}", "get_amount_in", random.randint(1, ro), ri, ro, 30)
(VECTORS / "v2_uniswap_v2_library.json").write_text(
    json.dumps(
        {
            "source": SRC.format("v2-periphery contracts/libraries/UniswapV2Library.sol"),
            "cases": cases,
        },
        indent=1,
    )
)

cases = []
for t in [MIN_TICK, MIN_TICK + 1, -1, 0, 1, MAX_TICK - 1, MAX_TICK, MAX_TICK + 1, MIN_TICK - 1] + [
    random.randint(MIN_TICK, MAX_TICK) for _ in range(20)
]:
    cases.append(
        case(
            f"sqrt_ratio_at_tick_{t}",
            {"function": "get_sqrt_ratio_at_tick", "tick": t},
            lambda t=t: {"value": str(get_sqrt_ratio_at_tick(t))},
        )
    )
for p in [MIN_SQRT_RATIO, MIN_SQRT_RATIO - 1, 1 << 96, MAX_SQRT_RATIO - 1, MAX_SQRT_RATIO] + [
    random.randint(MIN_SQRT_RATIO, MAX_SQRT_RATIO) for _ in range(20)
]:
    cases.append(
        case(
            f"tick_at_sqrt_ratio_{p}",
            {"function": "get_tick_at_sqrt_ratio", "sqrt_price_x96": str(p)},
            lambda p=p: {"value": get_tick_at_sqrt_ratio(p)},
        )
    )
(VECTORS / "v3_tick_math.json").write_text(
    json.dumps(
        {"source": SRC.format("v3-core contracts/libraries/TickMath.sol"), "cases": cases}, indent=1
    )
)

L = 10**21


def pool(spacing=60, fee=3000, width=20, tick=0):
    ticks = [(-(887220 // spacing * spacing), L), (887220 // spacing * spacing, -L)]
    for k in range(1, width + 1):
        ticks += [(-k * spacing, L // 10), (k * spacing, -L // 10)]
    return PoolState(
        get_sqrt_ratio_at_tick(tick),
        tick,
        L + width * (L // 10),
        fee,
        spacing,
        tuple(sorted(ticks)),
    )


cases = []


def sw(name, st, z, amt, limit=None):
    inp = {
        "state": {
            "sqrt_price_x96": str(st.sqrt_price_x96),
            "tick": st.tick,
            "liquidity": str(st.liquidity),
            "fee": st.fee,
            "tick_spacing": st.tick_spacing,
            "ticks": [{"index": i, "liquidity_net": str(n)} for i, n in st.ticks],
        },
        "zero_for_one": z,
        "amount_specified": str(amt),
    }
    if limit is not None:
        inp["sqrt_price_limit_x96"] = str(limit)

    def run():
        r = swap(st, z, amt, limit)
        return {
            "amount0": str(r.amount0),
            "amount1": str(r.amount1),
            "sqrt_price_x96": str(r.sqrt_price_x96),
            "tick": r.tick,
            "liquidity": str(r.liquidity),
        }

    cases.append(case(name, inp, run))


for spacing, fee in [(10, 500), (60, 3000), (200, 10000)]:
    st = pool(spacing, fee)
    for z in (True, False):
        d = "0for1" if z else "1for0"
        for amt in [1, 10**6, 10**18, 10**21, 10**22, 5 * 10**22]:
            sw(f"s{spacing}_{d}_exact_in_{amt}", st, z, amt)
            sw(f"s{spacing}_{d}_exact_out_{amt}", st, z, -amt)
        sw(
            f"s{spacing}_{d}_limit_partial",
            st,
            z,
            10**30,
            get_sqrt_ratio_at_tick(-7 * spacing if z else 7 * spacing),
        )
st = pool()
sw("zero_amount", st, True, 0)
sw("limit_wrong_side", st, True, 10, st.sqrt_price_x96 + 1)
sw("limit_out_of_range", st, False, 10, MAX_SQRT_RATIO)
sw("past_ticks_supplied", PoolState(1 << 96, 0, L, 3000, 60, ((-60, L), (60, -L))), True, 10**30)
sw("off_center_tick", pool(60, 3000, 50, -1234), False, 10**22)
(VECTORS / "v3_swap.json").write_text(
    json.dumps(
        {
            "source": SRC.format(
                "v3-core contracts/UniswapV3Pool.sol swap with SwapMath, SqrtPriceMath, TickMath, TickBitmap"
            ),
            "cases": cases,
        },
        indent=1,
    )
)
