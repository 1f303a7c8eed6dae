"""Gas: units per hop kind, bid multiplier and conversion into the base token, in integers."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from titan_scanner.graph import PoolInfo, TokenGraph
from titan_scanner.pricing.gas import GasQuote, GasUnits, apply_bid, convert, native_to_token
from titan_scanner.pricing.profit import net_profit, publishable


def test_units_by_kind() -> None:
    units = GasUnits(base=40_000, v2_hop=60_000, v3_hop=100_000)
    assert units.of(["v2", "v2"]) == 160_000
    assert units.of(["v2", "v3", "v3"]) == 300_000


def test_quote_price() -> None:
    quote = GasQuote(block_number=5, base_fee_wei=7, priority_fee_wei=3, source="ml")
    assert quote.price_wei == 10


def test_bid_rounds_up_and_is_integer() -> None:
    assert apply_bid(1000, 1.0) == 1000
    assert apply_bid(1000, 1.25) == 1250
    assert apply_bid(3, 1.001) == 4
    assert isinstance(apply_bid(10**18, 1.1), int)


def test_native_is_identity(pools: Any) -> None:
    weth = pools.token(0)
    assert native_to_token(123, weth, weth, TokenGraph(), {}) == 123


def test_v2_conversion_uses_deepest_pool(pools: Any) -> None:
    weth, usdc = pools.token(0), pools.token(1)
    shallow = pools.v2(weth, usdc, 10**15, 3 * 10**12)  # 3000 per WETH, shallow
    deep = pools.v2(weth, usdc, 10**21, 2 * 10**12, dex="sushiswap")  # 2000 per WETH
    graph = TokenGraph()
    for state in (shallow, deep):
        graph.add(PoolInfo.from_state(state))
    states = {s.address: s for s in (shallow, deep)}
    # 0.01 WETH of gas is 20 USDC (6 decimals: 2 * 10**7) through the deep pool.
    assert native_to_token(10**16, weth, usdc, graph, states) == 20 * 10**6


def test_no_converter_is_none(pools: Any) -> None:
    weth, usdc = pools.token(0), pools.token(1)
    assert native_to_token(10**16, weth, usdc, TokenGraph(), {}) is None


def test_v3_conversion_both_sides(pools: Any) -> None:
    a, b = pools.token(0), pools.token(1)
    pool = pools.v3(a, b, 4.0, 10**18)
    there = convert(10**18, pool.token0, pool)
    assert there is not None and abs(there - 4 * 10**18) < 10**10 if pool.token0 == a else True
    back = convert(there or 1, pool.token1, pool)
    assert back is not None and back >= 10**18


@given(st.integers(0, 10**30), st.integers(1, 10**30), st.integers(1, 10**30))
def test_v2_conversion_rounds_up(amount: int, r_in: int, r_out: int) -> None:
    from titan_common.models import PoolStateV2

    state = PoolStateV2(
        address="0x" + "11" * 20,
        dex="uniswap_v2",
        token0="0x" + "22" * 20,
        token1="0x" + "33" * 20,
        reserve0=r_in,
        reserve1=r_out,
    )
    out = convert(amount, state.token0, state)
    assert out is not None and out * r_in >= amount * r_out > (out - 1) * r_in - 1


def test_publishing_rule() -> None:
    assert net_profit(100, 30) == 70
    assert publishable(70, 0)
    assert not publishable(0, 0)
    assert not publishable(-1, 0)
    assert not publishable(70, 71)
    assert publishable(71, 71)
