"""The cycle index: cross-DEX 2-hop and triangular 3-hop cycles from a base token and back.

Built incrementally: each new pool brings the cycles it closes with the pools already known,
so building from a snapshot and growing with live discovery are the same code. Each pool may
be in at most `max_per_pool` cycles (first come, in a deterministic order), which bounds the
work one update can cause. Sharding keeps the cycles whose stable hash falls in this shard;
the cap is applied before sharding, so the shards of n scanners partition one same set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
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


# A cycle built without NamedTuple's keyword-checking constructor: ~3x faster, the same tuple.
_new_cycle = tuple.__new__


def cycle_key(hops: tuple[CycleHop, ...]) -> str:
    return "|".join(f"{hop.pool}:{int(hop.zero_for_one)}" for hop in hops)


def shard_of(key: str, count: int) -> int:
    """A hash of the cycle's key that every process and Python version agrees on."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


class CycleIndex:
    """Every cycle of this shard, and for each pool the ids of the cycles it is in.

    Candidate cycles through a new pool are taken in a fixed order, and one is kept when none
    of its pools is at the cap yet. A cycle is found once, when the last of its pools arrives
    (the others were in the graph before it, this pool was not), so no cycle comes twice.
    """

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
        # _out[a][b]: the hop from a to b of every pool between them, in the pools' order.
        self._out: dict[str, dict[str, list[CycleHop]]] = {}

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
        hops = {
            info.token0: CycleHop(info.address, True, info.token0, info.token1),
            info.token1: CycleHop(info.address, False, info.token1, info.token0),
        }
        for token_in, hop in hops.items():
            self._out.setdefault(token_in, {}).setdefault(hop.token_out, []).append(hop)
        self._count[info.address] = 0
        added: list[Cycle] = []
        if self.max_per_pool <= 0:
            return added
        for base in self.base_tokens:
            if base in hops:
                full = self._pairs(info, base, hops, added)
                if not full and self.max_hops >= 3:
                    full = self._triangles_from(info, base, hops, added, first=True)
                    full = full or self._triangles_from(info, base, hops, added, first=False)
            else:
                full = self.max_hops >= 3 and self._triangles_across(info, base, hops, added)
            if full:
                break
        return added

    def cycles_of(self, pool: str) -> list[int]:
        return self._by_pool.get(pool, [])

    def pools(self) -> list[str]:
        return list(self._by_pool)

    def _take(self, base: str, path: tuple[CycleHop, ...], added: list[Cycle]) -> None:
        """Count a cycle against its pools' caps; keep it when it falls in this shard."""
        count = self._count
        for hop in path:
            count[hop.pool] += 1
        shards = self.shard[1]
        if shards > 1 and shard_of(cycle_key(path), shards) != self.shard[0]:
            return
        cycle = _new_cycle(Cycle, (len(self.cycles), base, path))
        self.cycles.append(cycle)
        added.append(cycle)
        by_pool = self._by_pool
        for hop in path:
            ids = by_pool.get(hop.pool)
            if ids is None:
                by_pool[hop.pool] = [cycle.id]
            else:
                ids.append(cycle.id)

    # Each walk below returns True as soon as the new pool is at the cap (nothing more can be
    # taken) and skips a candidate whose other pools are: a pool at the cap stays there.

    def _pairs(self, p: PoolInfo, base: str, hops: dict[str, CycleHop], added: list[Cycle]) -> bool:
        """2-hop: the same pair on another pool (another DEX or fee tier), both orders."""
        x = p.other(base)
        count, cap, out = self._count, self.max_per_pool, self._out
        for q_go, q_back in zip(out[base][x], out[x][base], strict=True):
            q = q_go.pool
            if q == p.address or count[q] >= cap:
                continue
            self._take(base, (hops[base], q_back), added)
            if count[p.address] >= cap:
                return True
            if count[q] < cap:
                self._take(base, (q_go, hops[x]), added)
                if count[p.address] >= cap:
                    return True
        return False

    def _triangles_from(
        self, p: PoolInfo, base: str, hops: dict[str, CycleHop], added: list[Cycle], first: bool
    ) -> bool:
        """3-hop with p first (base -> x -> y -> base) or last (base -> y -> x -> base)."""
        x = p.other(base)
        count, cap, out = self._count, self.max_per_pool, self._out
        out_x, out_base = out[x], out[base]
        p_hop = hops[base] if first else hops[x]
        for y in sorted(out_x):
            if y in (base, x):
                continue
            ends = out[y].get(base) if first else out_base.get(y)
            if not ends:
                continue
            for mid in out_x[y] if first else out[y][x]:
                m = mid.pool
                if count[m] >= cap:
                    continue
                for end in ends:
                    if count[end.pool] >= cap:
                        continue
                    self._take(base, (p_hop, mid, end) if first else (end, mid, p_hop), added)
                    if count[p.address] >= cap:
                        return True
                    if count[m] >= cap:
                        break
        return False

    def _triangles_across(
        self, p: PoolInfo, base: str, hops: dict[str, CycleHop], added: list[Cycle]
    ) -> bool:
        """3-hop with p in the middle (base -> x -> y -> base), in both directions."""
        count, cap, out = self._count, self.max_per_pool, self._out
        out_base = out.get(base, {})
        for x, y in ((p.token0, p.token1), (p.token1, p.token0)):
            starts, ends = out_base.get(x), out[y].get(base)
            if not starts or not ends:
                continue
            for start in starts:
                s = start.pool
                if count[s] >= cap:
                    continue
                for end in ends:
                    if count[end.pool] >= cap:
                        continue
                    self._take(base, (start, hops[x], end), added)
                    if count[p.address] >= cap:
                        return True
                    if count[s] >= cap:
                        break
        return False
