"""The cycle index: cross-DEX 2-hop and triangular 3-hop cycles from a base token and back.

Built incrementally: each new pool brings the cycles it closes with the pools already known,
so building from a snapshot and growing with live discovery are the same code. Each pool may
be in at most `max_per_pool` cycles (first come, in a deterministic order), which bounds the
work one update can cause. Sharding keeps the cycles whose stable hash falls in this shard;
the cap is applied before sharding, so the shards of n scanners partition one same set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from titan_scanner.graph.tokens import PoolInfo, TokenGraph


class CycleHop(NamedTuple):
    pool: str
    zero_for_one: bool
    token_in: str
    token_out: str


class Cycle(NamedTuple):
    id: int  # position in this scanner's index, not stable across processes
    base_token: str
    hops: tuple[CycleHop, ...]

    @property
    def key(self) -> str:
        """Stable across processes: "pool:dir|pool:dir|..." with dir 1 for zero-for-one."""
        return cycle_key(self.hops)

    @property
    def pools(self) -> tuple[str, ...]:
        return tuple(hop.pool for hop in self.hops)


def cycle_key(hops: tuple[CycleHop, ...]) -> str:
    return "|".join(f"{hop.pool}:{int(hop.zero_for_one)}" for hop in hops)


def shard_of(key: str, count: int) -> int:
    """A hash of the cycle's key that every process and Python version agrees on."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


class CycleIndex:
    """Every cycle of this shard, and for each pool the ids of the cycles it is in."""

    def __init__(
        self,
        base_tokens: Iterable[str],
        max_per_pool: int = 200,
        max_hops: int = 3,
        shard: tuple[int, int] = (0, 1),
    ) -> None:
        self.graph = TokenGraph()
        self.base_tokens = tuple(dict.fromkeys(base_tokens))
        self.max_per_pool = max_per_pool
        self.max_hops = max_hops
        self.shard = shard
        self.cycles: list[Cycle] = []
        self._by_pool: dict[str, list[int]] = {}
        self._count: dict[str, int] = {}  # cycles per pool before sharding, for the cap
        self._keys: set[tuple[CycleHop, ...]] = set()
        self._hops: dict[tuple[str, str], CycleHop] = {}

    def __len__(self) -> int:
        return len(self.cycles)

    def build(self, pools: Iterable[PoolInfo]) -> list[Cycle]:
        """Add many pools in address order, so the same set gives the same index."""
        added: list[Cycle] = []
        for info in sorted(pools, key=lambda p: p.address):
            added.extend(self.add_pool(info))
        return added

    def add_pool(self, info: PoolInfo) -> list[Cycle]:
        """Add a pool and return the new cycles of this shard that go through it."""
        if not self.graph.add(info):
            return []
        self._count.setdefault(info.address, 0)
        added: list[Cycle] = []
        for base in self.base_tokens:
            for path in self._paths_through(info, base):
                if self._count[info.address] >= self.max_per_pool:
                    return added
                cycle = self._accept(base, path)
                if cycle is not None:
                    added.append(cycle)
        return added

    def cycles_of(self, pool: str) -> list[int]:
        return self._by_pool.get(pool, [])

    def pools(self) -> list[str]:
        return list(self._by_pool)

    def _full(self, address: str) -> bool:
        return self._count.get(address, 0) >= self.max_per_pool

    def _hop(self, info: PoolInfo, token_in: str) -> CycleHop:
        hop = self._hops.get((info.address, token_in))
        if hop is None:
            hop = CycleHop(info.address, token_in == info.token0, token_in, info.other(token_in))
            self._hops[(info.address, token_in)] = hop
        return hop

    def _accept(self, base: str, path: tuple[CycleHop, ...]) -> Cycle | None:
        count, cap = self._count, self.max_per_pool
        for hop in path:
            if count[hop.pool] >= cap:
                return None
        if path in self._keys:
            return None
        self._keys.add(path)
        for hop in path:
            count[hop.pool] += 1
        shards = self.shard[1]
        if shards > 1 and shard_of(cycle_key(path), shards) != self.shard[0]:
            return None
        cycle = Cycle(len(self.cycles), base, path)
        self.cycles.append(cycle)
        by_pool = self._by_pool
        for hop in path:
            ids = by_pool.get(hop.pool)
            if ids is None:
                by_pool[hop.pool] = [cycle.id]
            else:
                ids.append(cycle.id)
        return cycle

    def _paths_through(self, p: PoolInfo, base: str) -> Iterator[tuple[CycleHop, ...]]:
        g = self.graph
        if base in (p.token0, p.token1):
            x = p.other(base)
            # 2-hop: the same pair on another pool (another DEX or fee tier), both orders.
            for q_addr in g.pools_between(base, x):
                if q_addr != p.address and not self._full(q_addr):
                    q = g[q_addr]
                    yield (self._hop(p, base), self._hop(q, x))
                    yield (self._hop(q, base), self._hop(p, x))
            if self.max_hops >= 3:
                # 3-hop with p first (base -> x) or last (x -> base).
                yield from self._triangles_from(p, base, x, first=True)
                yield from self._triangles_from(p, base, x, first=False)
        elif self.max_hops >= 3:
            # 3-hop with p in the middle, in both directions.
            for x, y in ((p.token0, p.token1), (p.token1, p.token0)):
                for a_addr in g.pools_between(base, x):
                    if self._full(a_addr):
                        continue
                    for c_addr in g.pools_between(y, base):
                        if not self._full(c_addr):
                            yield (
                                self._hop(g[a_addr], base),
                                self._hop(p, x),
                                self._hop(g[c_addr], y),
                            )

    def _triangles_from(
        self, p: PoolInfo, base: str, x: str, first: bool
    ) -> Iterator[tuple[CycleHop, ...]]:
        g = self.graph
        for y in sorted(g.neighbors(x)):
            if y in (base, x):
                continue
            closing = g.pools_between(y, base)
            if not closing:
                continue
            for mid_addr in g.pools_between(x, y):
                if self._full(mid_addr):
                    continue
                mid = g[mid_addr]
                for end_addr in closing:
                    if self._full(end_addr):
                        continue
                    end = g[end_addr]
                    if first:
                        yield (self._hop(p, base), self._hop(mid, x), self._hop(end, y))
                    else:
                        yield (self._hop(end, base), self._hop(mid, y), self._hop(p, x))
