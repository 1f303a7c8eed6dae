"""Shared fixtures of the scanner's tests: pool-state factories and a clean environment."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from eth_utils.address import to_checksum_address

from titan_common.models import PoolStateV2, PoolStateV3


def address(n: int) -> str:
    return str(to_checksum_address(f"0x{n:040x}"))


@dataclass
class PoolFactory:
    """Builds pool states with readable numbering: tokens 0x..1.., pools 0x..a...."""

    next_pool: int = 0xA000

    def token(self, n: int) -> str:
        return address(0x1000 + n)

    def v2(
        self, a: str, b: str, ra: int, rb: int, dex: str = "uniswap_v2", **kw: Any
    ) -> PoolStateV2:
        self.next_pool += 1
        t0, t1, r0, r1 = (a, b, ra, rb) if a.lower() < b.lower() else (b, a, rb, ra)
        return PoolStateV2(
            address=address(self.next_pool),
            dex=dex,
            token0=t0,
            token1=t1,
            reserve0=r0,
            reserve1=r1,
            **kw,
        )

    def v3(
        self, a: str, b: str, price_b_per_a: float, liquidity: int, fee: int = 3000
    ) -> PoolStateV3:
        self.next_pool += 1
        t0, t1 = (a, b) if a.lower() < b.lower() else (b, a)
        price = price_b_per_a if t0 == a else 1 / price_b_per_a
        sqrt = int((price**0.5) * 2**96)
        return PoolStateV3(
            address=address(self.next_pool),
            dex="uniswap_v3",
            token0=t0,
            token1=t1,
            fee=fee,
            tick_spacing=60,
            sqrt_price_x96=sqrt,
            tick=0,
            liquidity=liquidity,
        )


@pytest.fixture
def pools() -> PoolFactory:
    return PoolFactory()


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Callable[[], None]:
    for name in list(os.environ):
        if name.isupper() and not name.startswith(("PATH", "HOME", "PYTHON", "UV")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return lambda: None
