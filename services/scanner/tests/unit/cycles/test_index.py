"""The cycle index: which cycles exist, the cap per pool, and sharding."""

from __future__ import annotations

import itertools
from typing import Any

from titan_scanner.cycles import CycleIndex, shard_of
from titan_scanner.graph import PoolInfo


def _infos(states: list[Any]) -> list[PoolInfo]:
    return [PoolInfo.from_state(s) for s in states]


def _check_closed(index: CycleIndex) -> None:
    for cycle in index.cycles:
        assert cycle.hops[0].token_in == cycle.base_token
        assert cycle.hops[-1].token_out == cycle.base_token
        for a, b in itertools.pairwise(cycle.hops):
            assert a.token_out == b.token_in
        for hop in cycle.hops:
            info = index.graph[hop.pool]
            assert hop.zero_for_one == (hop.token_in == info.token0)
            assert {hop.token_in, hop.token_out} == {info.token0, info.token1}
        assert len(set(cycle.pools)) == len(cycle.hops)


def test_cross_dex_two_hop_both_orders(pools: Any) -> None:
    weth, usdc = pools.token(0), pools.token(1)
    a = pools.v2(weth, usdc, 10**18, 2000 * 10**6, dex="uniswap_v2")
    b = pools.v2(weth, usdc, 10**18, 2010 * 10**6, dex="sushiswap")
    index = CycleIndex([weth])
    index.build(_infos([a, b]))
    keys = {tuple(h.pool for h in c.hops) for c in index.cycles}
    assert keys == {(a.address, b.address), (b.address, a.address)}
    _check_closed(index)


def test_fee_tiers_make_cycles_and_a_lone_pool_none(pools: Any) -> None:
    weth, usdc, dai = pools.token(0), pools.token(1), pools.token(2)
    v3_low = pools.v3(weth, usdc, 2000.0, 10**15, fee=500)
    v3_mid = pools.v3(weth, usdc, 2000.0, 10**15, fee=3000)
    lone = pools.v2(weth, dai, 10**18, 2000 * 10**18)
    index = CycleIndex([weth])
    index.build(_infos([v3_low, v3_mid, lone]))
    assert len(index) == 2
    assert index.cycles_of(lone.address) == []


def test_triangles_both_directions(pools: Any) -> None:
    weth, usdc, dai = pools.token(0), pools.token(1), pools.token(2)
    p1 = pools.v2(weth, usdc, 10**18, 2000 * 10**6)
    p2 = pools.v2(usdc, dai, 10**12, 10**24)
    p3 = pools.v3(dai, weth, 1 / 2000, 10**20)
    index = CycleIndex([weth])
    index.build(_infos([p1, p2, p3]))
    paths = sorted(tuple(h.pool for h in c.hops) for c in index.cycles)
    assert paths == sorted(
        [(p1.address, p2.address, p3.address), (p3.address, p2.address, p1.address)]
    )
    _check_closed(index)
    for pool in (p1, p2, p3):
        assert len(index.cycles_of(pool.address)) == 2


def test_incremental_equals_build(pools: Any) -> None:
    tokens = [pools.token(i) for i in range(6)]
    states = []
    for i, (a, b) in enumerate(itertools.combinations(tokens, 2)):
        states.append(pools.v2(a, b, 10**18 + i, 10**18 + 7 * i))
        if i % 3 == 0:
            states.append(pools.v2(a, b, 10**18, 10**18, dex="sushiswap"))
    built = CycleIndex([tokens[0]])
    built.build(_infos(states))
    grown = CycleIndex([tokens[0]])
    for info in sorted(_infos(states), key=lambda p: p.address):
        grown.add_pool(info)
    assert [c.key for c in built.cycles] == [c.key for c in grown.cycles]
    _check_closed(built)
    # 5 other tokens: every ordered pair (x, y) of them closes a triangle per pool choice.
    assert len(built) > 20


def test_every_cycle_once_and_pool_lists_consistent(pools: Any) -> None:
    tokens = [pools.token(i) for i in range(5)]
    states = [pools.v2(a, b, 10**18, 10**18) for a, b in itertools.combinations(tokens, 2)]
    states += [pools.v3(a, b, 1.0, 10**18, fee=500) for a, b in itertools.combinations(tokens, 2)]
    index = CycleIndex([tokens[0], tokens[1]])
    index.build(_infos(states))
    assert len({c.key for c in index.cycles}) == len(index)
    for cycle in index.cycles:
        for pool in cycle.pools:
            assert cycle.id in index.cycles_of(pool)
    assert {c.base_token for c in index.cycles} == {tokens[0], tokens[1]}


def test_cap_per_pool(pools: Any) -> None:
    tokens = [pools.token(i) for i in range(8)]
    states = [pools.v2(a, b, 10**18, 10**18) for a, b in itertools.combinations(tokens, 2)]
    states += [
        pools.v2(a, b, 10**18, 10**18, dex="sushiswap")
        for a, b in itertools.combinations(tokens, 2)
    ]
    index = CycleIndex([tokens[0]], max_per_pool=5)
    index.build(_infos(states))
    counts: dict[str, int] = {}
    for cycle in index.cycles:
        for pool in cycle.pools:
            counts[pool] = counts.get(pool, 0) + 1
    assert counts and max(counts.values()) <= 5


def test_shards_partition_the_same_set(pools: Any) -> None:
    tokens = [pools.token(i) for i in range(6)]
    states = [pools.v2(a, b, 10**18, 10**18) for a, b in itertools.combinations(tokens, 2)]
    states += [
        pools.v2(a, b, 10**18, 10**18, dex="quickswap")
        for a, b in itertools.combinations(tokens, 2)
    ]
    whole = CycleIndex([tokens[0]], max_per_pool=30)
    whole.build(_infos(states))
    parts = []
    for i in range(3):
        shard = CycleIndex([tokens[0]], max_per_pool=30, shard=(i, 3))
        shard.build(_infos(states))
        parts.append({c.key for c in shard.cycles})
        assert all(shard_of(key, 3) == i for key in parts[-1])
    assert set().union(*parts) == {c.key for c in whole.cycles}
    assert sum(len(p) for p in parts) == len(whole)
    assert all(parts)


def test_shard_hash_is_stable() -> None:
    # Pinned: another process or Python version must agree.
    assert shard_of("0xabc:1|0xdef:0", 1000) == 410
    assert [shard_of(f"k{i}", 7) for i in range(5)] == [0, 5, 6, 5, 4]


def test_two_hop_only(pools: Any) -> None:
    weth, usdc, dai = pools.token(0), pools.token(1), pools.token(2)
    states = [
        pools.v2(weth, usdc, 10**18, 10**18),
        pools.v2(weth, usdc, 10**18, 10**18, dex="sushiswap"),
        pools.v2(usdc, dai, 10**18, 10**18),
        pools.v2(dai, weth, 10**18, 10**18),
    ]
    index = CycleIndex([weth], max_hops=2)
    index.build(_infos(states))
    assert len(index) == 2 and all(len(c.hops) == 2 for c in index.cycles)


def test_duplicate_pool_is_ignored(pools: Any) -> None:
    weth, usdc = pools.token(0), pools.token(1)
    a = pools.v2(weth, usdc, 10**18, 10**18)
    b = pools.v2(weth, usdc, 10**18, 10**18, dex="sushiswap")
    index = CycleIndex([weth])
    index.add_pool(PoolInfo.from_state(a))
    assert len(index.add_pool(PoolInfo.from_state(b))) == 2
    assert index.add_pool(PoolInfo.from_state(b)) == []


def _every_cycle(infos: list[PoolInfo], bases: list[str]) -> set[str]:
    """Brute force: every 2- and 3-hop cycle from a base token over distinct pools."""

    def hops_from(token: str) -> list[tuple[PoolInfo, str]]:
        return [(p, p.other(token)) for p in infos if token in (p.token0, p.token1)]

    routes: set[tuple[tuple[PoolInfo, str], ...]] = set()
    for base in bases:
        for p, x in hops_from(base):
            for q, y in hops_from(x):
                if q is p:
                    continue
                route = ((p, base), (q, x))
                if y == base:
                    routes.add(route)
                elif y not in (base, x):
                    for r, z in hops_from(y):
                        if z == base and r is not p and r is not q:
                            routes.add((*route, (r, y)))
    return {"|".join(f"{p.address}:{int(t == p.token0)}" for p, t in route) for route in routes}


def test_uncapped_index_holds_every_cycle_and_no_other(pools: Any) -> None:
    """Against brute force, on a dense market with several pools per pair, added in any order."""
    tokens = [pools.token(i) for i in range(6)]
    states = []
    for i, (a, b) in enumerate(itertools.combinations(tokens, 2)):
        states.append(pools.v2(a, b, 10**18, 10**18))
        if i % 2 == 0:
            states.append(pools.v2(a, b, 10**18, 10**18, dex="sushiswap"))
        if i % 3 == 0:
            states.append(pools.v3(a, b, 1.0, 10**18, fee=500))
    infos = _infos(states)
    bases = [tokens[0], tokens[3]]
    expected = _every_cycle(infos, bases)
    assert len(expected) > 100
    for order in (infos, infos[::-1], sorted(infos, key=lambda p: p.address)):
        index = CycleIndex(bases, max_per_pool=10**9)
        index.build(order)
        assert {c.key for c in index.cycles} == expected
        _check_closed(index)
