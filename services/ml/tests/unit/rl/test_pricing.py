"""In-band V3 pricing: the local port agrees with titan_common's SwapMath; out of band is None."""

from __future__ import annotations

import random

import pytest

from titan_ml.rl import pricing
from titan_ml.rl.pricing import PoolSnapshot, band_edge, quote_exact_input

# The 0.05 % pool's first state of 2024-01-05 (block 18,937,382).
POOL = PoolSnapshot(1662990119151672310826534140478120, 199045, 12453647101533358277, 500, 10)


@pytest.mark.skipif(pricing._shared_step is None, reason="titan_common.pool_math not installed")
def test_port_matches_shared_swap_math() -> None:
    rng = random.Random(1)
    for _ in range(300):
        zero_for_one = rng.random() < 0.5
        edge = band_edge(POOL, zero_for_one)
        amount = rng.randrange(1, 10**22)
        ours = pricing._port_step(POOL.sqrt_price_x96, edge, POOL.liquidity, amount, POOL.fee)
        theirs = pricing._shared_step(POOL.sqrt_price_x96, edge, POOL.liquidity, amount, POOL.fee)
        assert ours == tuple(theirs)


def test_small_swap_is_priced_and_large_one_refused() -> None:
    out = quote_exact_input(POOL, False, 10**18)  # 1 WETH in, USDC out
    assert out is not None and 2_100 * 10**6 < out < 2_300 * 10**6
    assert quote_exact_input(POOL, False, 10**24) is None
    assert quote_exact_input(POOL, True, 0) is None


def test_output_is_monotone_in_input() -> None:
    outs = [quote_exact_input(POOL, True, a * 10**6) for a in (1, 10, 100, 1000)]  # USDC in
    assert all(o is not None for o in outs)
    assert outs == sorted(outs)
