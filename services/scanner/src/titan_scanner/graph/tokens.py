"""Tokens and the pools between them, as the cycle index walks them.

A pool's identity (address, kind, DEX, tokens, fee) never changes; its state does and lives
in the pipeline's state store, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from titan_common.models import PoolStateV2, PoolStateV3


@dataclass(frozen=True, slots=True)
class PoolInfo:
    """What the graph needs to know of a pool: which tokens it joins and at what fee."""

    address: str
    kind: Literal["v2", "v3"]
    dex: str
    token0: str
    token1: str
    fee_ppm: int  # fee in millionths: V2 basis points x 100, V3 as the pool states it

    @classmethod
    def from_state(cls, state: PoolStateV2 | PoolStateV3) -> PoolInfo:
        fee = state.fee_bps * 100 if isinstance(state, PoolStateV2) else state.fee
        return cls(state.address, state.kind, state.dex, state.token0, state.token1, fee)

    def other(self, token: str) -> str:
        return self.token1 if token == self.token0 else self.token0


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


class TokenGraph:
    """An undirected multigraph of tokens, with every pool between each pair of tokens."""

    def __init__(self) -> None:
        self._pools: dict[str, PoolInfo] = {}
        self._by_pair: dict[tuple[str, str], list[str]] = {}
        self._neighbors: dict[str, set[str]] = {}

    def add(self, info: PoolInfo) -> bool:
        """Add a pool; False when it was already known (its identity cannot change)."""
        if info.address in self._pools:
            return False
        self._pools[info.address] = info
        self._by_pair.setdefault(pair_key(info.token0, info.token1), []).append(info.address)
        self._neighbors.setdefault(info.token0, set()).add(info.token1)
        self._neighbors.setdefault(info.token1, set()).add(info.token0)
        return True

    def get(self, address: str) -> PoolInfo | None:
        return self._pools.get(address)

    def __getitem__(self, address: str) -> PoolInfo:
        return self._pools[address]

    def __contains__(self, address: object) -> bool:
        return address in self._pools

    def __len__(self) -> int:
        return len(self._pools)

    def pools(self) -> list[PoolInfo]:
        return list(self._pools.values())

    def pools_between(self, a: str, b: str) -> list[str]:
        return self._by_pair.get(pair_key(a, b), [])

    def neighbors(self, token: str) -> set[str]:
        return self._neighbors.get(token, set())

    def tokens(self) -> list[str]:
        return list(self._neighbors)
