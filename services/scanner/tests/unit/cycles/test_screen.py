"""Screening: marginal log-rates after fees, and which cycles pass."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from titan_scanner.cycles import CycleIndex, Screener
from titan_scanner.cycles.screen import log_rates
from titan_scanner.graph import PoolInfo


def _setup(states: list[Any], base: str) -> tuple[CycleIndex, Screener]:
    index = CycleIndex([base])
    screener = Screener()
    screener.add_cycles(index.build(PoolInfo.from_state(s) for s in states))
    for state in states:
        screener.update_pool(state)
    return index, screener


def test_v2_rates_include_fee(pools: Any) -> None:
    a, b = pools.token(0), pools.token(1)
    pool = pools.v2(a, b, 1000, 2000)
    forward, backward = log_rates(pool)
    price = pool.reserve1 / pool.reserve0
    assert math.isclose(math.exp(forward), price * 0.997)
    assert math.isclose(math.exp(backward), 0.997 / price)


def test_v3_rate_matches_sqrt_price(pools: Any) -> None:
    a, b = pools.token(0), pools.token(1)
    pool = pools.v3(a, b, 4.0, 10**18, fee=500)
    forward, backward = log_rates(pool)
    price = (pool.sqrt_price_x96 / 2**96) ** 2
    assert math.isclose(math.exp(forward), price * 0.9995)
    assert math.isclose(math.exp(backward), 0.9995 / price)


def test_empty_pools_are_unusable(pools: Any) -> None:
    a, b = pools.token(0), pools.token(1)
    assert log_rates(pools.v2(a, b, 0, 10)) == (-math.inf, -math.inf)
    assert log_rates(pools.v3(a, b, 1.0, 0)) == (-math.inf, -math.inf)


def test_diverged_pair_passes_in_one_direction_only(pools: Any) -> None:
    weth, usdc = pools.token(0), pools.token(1)
    cheap = pools.v2(weth, usdc, 10**18, 2000 * 10**6)
    dear = pools.v2(weth, usdc, 10**18, 2100 * 10**6, dex="sushiswap")
    index, screener = _setup([cheap, dear], weth)
    passed = screener.screen(screener.cycles_touching([cheap.address]))
    assert len(passed) == 1
    cycle = index.cycles[int(passed[0])]
    # Sell WETH where it is dear, buy it back where it is cheap.
    assert cycle.pools == (dear.address, cheap.address)


def test_equal_prices_do_not_pass_after_fees(pools: Any) -> None:
    weth, usdc, dai = pools.token(0), pools.token(1), pools.token(2)
    states = [
        pools.v2(weth, usdc, 10**18, 2000 * 10**6),
        pools.v2(weth, usdc, 10**18, 2000 * 10**6, dex="quickswap"),
        pools.v2(usdc, dai, 10**6, 10**18),
        pools.v3(dai, weth, 1 / 2000, 10**20, fee=500),
    ]
    index, screener = _setup(states, weth)
    ids = screener.cycles_touching([s.address for s in states])
    assert len(ids) == len(index)
    assert len(screener.screen(ids)) == 0


def test_most_promising_first(pools: Any) -> None:
    weth, usdc, dai = pools.token(0), pools.token(1), pools.token(2)
    a = pools.v2(weth, usdc, 10**18, 2000 * 10**6)
    b = pools.v2(weth, usdc, 10**18, 2100 * 10**6, dex="sushiswap")
    c = pools.v2(weth, dai, 10**18, 2000 * 10**18)
    d = pools.v2(weth, dai, 10**18, 2300 * 10**18, dex="sushiswap")
    index, screener = _setup([a, b, c, d], weth)
    passed = screener.screen(screener.cycles_touching([a.address, c.address]))
    edges = screener.log_edges(passed)
    assert list(edges) == sorted(edges, reverse=True)
    assert index.cycles[int(passed[0])].pools == (d.address, c.address)


def test_updates_change_the_verdict(pools: Any) -> None:
    weth, usdc = pools.token(0), pools.token(1)
    a = pools.v2(weth, usdc, 10**18, 2000 * 10**6)
    b = pools.v2(weth, usdc, 10**18, 2000 * 10**6, dex="sushiswap")
    _, screener = _setup([a, b], weth)
    ids = screener.cycles_touching([a.address])
    assert len(screener.screen(ids)) == 0
    screener.update_pool(b.model_copy(update={"reserve1": 2500 * 10**6}))
    assert len(screener.screen(ids)) == 1


def test_no_cycles_touching_unknown_pool() -> None:
    screener = Screener()
    assert len(screener.cycles_touching(["0x0"])) == 0
    assert len(screener.screen(np.zeros(0, dtype=np.int64))) == 0


@given(r0=st.integers(1, 2**112 - 1), r1=st.integers(1, 2**112 - 1), fee=st.integers(0, 9999))
@example(r0=1, r1=1, fee=0)
@example(r0=2**112 - 1, r1=1, fee=9999)
def test_round_trip_never_gains(r0: int, r1: int, fee: int) -> None:
    from titan_common.models import PoolStateV2

    state = PoolStateV2(
        address="0x" + "11" * 20,
        dex="uniswap_v2",
        token0="0x" + "22" * 20,
        token1="0x" + "33" * 20,
        reserve0=r0,
        reserve1=r1,
        fee_bps=fee,
    )
    forward, backward = log_rates(state)
    assert forward + backward <= 1e-9
