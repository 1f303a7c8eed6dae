"""In-band V3 pricing: equal to the pool's swap loop inside the band; out of band is None."""

from __future__ import annotations

import random

from titan_common.pool_math.v3.swap import PoolState, swap
from titan_ml.rl.pricing import PoolSnapshot, quote_exact_input

# The 0.05 % pool's first state of 2024-01-05 (block 18,937,382).
POOL = PoolSnapshot(1662990119151672310826534140478120, 199045, 12453647101533358277, 500, 10)


def test_in_band_quote_equals_the_pool_swap_loop() -> None:
    """The one-step quote agrees with titan_common's full UniswapV3Pool.swap inside the band."""
    lower = (POOL.tick // POOL.tick_spacing) * POOL.tick_spacing
    state = PoolState(
        POOL.sqrt_price_x96,
        POOL.tick,
        POOL.liquidity,
        POOL.fee,
        POOL.tick_spacing,
        (
            (lower - POOL.tick_spacing, 0),
            (lower, 0),
            (lower + POOL.tick_spacing, 0),
            (lower + 2 * POOL.tick_spacing, 0),
        ),
    )
    rng = random.Random(1)
    checked = 0
    for _ in range(200):
        zero_for_one = rng.random() < 0.5
        amount = int(10 ** rng.uniform(3, 11) if zero_for_one else 10 ** rng.uniform(12, 21))
        quote = quote_exact_input(POOL, zero_for_one, amount)
        if quote is None:
            continue
        result = swap(state, zero_for_one, amount)
        assert quote == -(result.amount1 if zero_for_one else result.amount0)
        checked += 1
    assert checked > 50


def test_small_swap_is_priced_and_large_one_refused() -> None:
    out = quote_exact_input(POOL, False, 10**18)  # 1 WETH in, USDC out
    assert out is not None and 2_100 * 10**6 < out < 2_300 * 10**6
    assert quote_exact_input(POOL, False, 10**24) is None
    assert quote_exact_input(POOL, True, 0) is None


def test_output_is_monotone_in_input() -> None:
    outs = [quote_exact_input(POOL, True, a * 10**6) for a in (1, 10, 100, 1000)]  # USDC in
    assert all(o is not None for o in outs)
    assert outs == sorted(outs)
