"""Test doubles for the scanner: pool-state and opportunity factories, a V2-only stand-in
engine, a stand-in ML.

For tests without the real services (unit tests, benchmarks of the scanner alone); the
integration tests use the real engine, ML and ingest instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from eth_utils.address import to_checksum_address

from titan_common.models import (
    Action,
    BlockComplete,
    Opportunity,
    OpportunityHop,
    PoolStateV2,
    PoolStateV3,
    PoolUpdate,
    Verification,
)
from titan_scanner.verify.paper import PaperStatus, PaperTrade


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


# -- a stand-in engine for tests without the real one: V2 math only, exact integers --------


def get_amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int) -> int:
    """Uniswap V2's getAmountOut with a fee in basis points."""
    with_fee = amount_in * (10_000 - fee_bps)
    return with_fee * reserve_out // (reserve_in * 10_000 + with_fee)


def path_out(amount: int, hops: list[dict[str, Any]]) -> list[tuple[int, int]]:
    amounts = []
    for hop in hops:
        pool, zero_for_one = hop["pool"], hop["zero_for_one"]
        r0, r1 = int(pool["reserve0"]), int(pool["reserve1"])
        r_in, r_out = (r0, r1) if zero_for_one else (r1, r0)
        out = get_amount_out(amount, r_in, r_out, pool["fee_bps"])
        amounts.append((amount, out))
        amount = out
    return amounts


def best_input(hops: list[dict[str, Any]]) -> tuple[int, list[tuple[int, int]]]:
    first = hops[0]["pool"]
    r_in = int(first["reserve0"] if hops[0]["zero_for_one"] else first["reserve1"])
    lo, hi = 1, max(2, r_in // 2)
    while hi - lo > 2:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        p1 = path_out(m1, hops)[-1][1] - m1
        p2 = path_out(m2, hops)[-1][1] - m2
        if p1 < p2:
            lo = m1 + 1
        else:
            hi = m2
    best = max(range(lo, hi + 1), key=lambda x: path_out(x, hops)[-1][1] - x)
    return best, path_out(best, hops)


class FakeEngine:
    """An httpx transport answering `POST /api/routes/evaluate` and `GET /health`."""

    def __init__(self) -> None:
        self.down = False
        self.batches: list[list[str]] = []
        self.health_checks = 0  # `GET /health` asked, answered or not

    def handler(self, request: Any) -> Any:
        self.health_checks += request.url.path == "/health"
        if self.down:
            raise httpx.ConnectError("engine down", request=request)
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "ok", "service": "engine"})
        body = orjson.loads(request.content)
        self.batches.append([c["id"] for c in body["cycles"]])
        results = []
        for cycle in body["cycles"]:
            amount_in, hops = best_input(cycle["hops"])
            out = hops[-1][1]
            results.append(
                {
                    "id": cycle["id"],
                    "amount_in": str(amount_in),
                    "amount_out": str(out),
                    "gross_profit": str(out - amount_in),
                    "hops": [{"amount_in": str(a), "amount_out": str(b)} for a, b in hops],
                }
            )
        return httpx.Response(200, json={"results": results})

    def transport(self) -> Any:
        return httpx.MockTransport(self.handler)


class FakeMl:
    def __init__(self) -> None:
        self.down = False
        self.failing_actions = False  # the batch of actions answers 500
        self.failing_forecasts = False  # the gas forecast answers 500
        self.action_source = "rl_agent"  # who decided, as ML says ("threshold_rule" too)
        self.base_fee = 10**9
        self.actions = 0
        self.asked_q_values: list[bool] = []  # each batch's `q_values` flag

    def handler(self, request: Any) -> Any:
        if self.down:
            raise httpx.ConnectError("ml down", request=request)
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "ok", "service": "ml"})
        if request.url.path == "/api/forecast/gas" and self.failing_forecasts:
            error = {"code": "internal_error", "message": "the forecaster failed"}
            return httpx.Response(500, json={"error": error})
        if request.url.path == "/api/forecast/gas":
            return httpx.Response(
                200,
                json={
                    "model": "fake",
                    "forecasts": [
                        {
                            "horizon": 1,
                            "base_fee_wei": str(self.base_fee),
                            "priority_fee_wei": "1000",
                        }
                    ],
                },
            )
        if request.url.path == "/api/rl/action/batch":
            if self.failing_actions:
                error = {"code": "internal_error", "message": "the agent failed"}
                return httpx.Response(500, json={"error": error})
            body = orjson.loads(request.content)
            states = body["states"]
            self.actions += len(states)
            self.asked_q_values.append(body.get("q_values", True))
            action = {
                "execute": True,
                "size_fraction": 1.0,
                "gas_bid_multiplier": 1.2,
                "source": self.action_source,
            }
            return httpx.Response(200, json={"actions": [{"action": action} for _ in states]})
        error = {"code": "not_found", "message": f"no route {request.url.path}"}
        return httpx.Response(404, json={"error": error})

    def transport(self) -> Any:
        return httpx.MockTransport(self.handler)


# -- the scanner app in process, with stand-in engine and ML --------------------------------


async def wait_for(predicate: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


@dataclass
class Service:
    app: Any
    runtime: Any
    client: Any
    pools: PoolFactory
    weth: str
    usdc: str
    dai: str

    def update(
        self,
        state: Any,
        block: int,
        log_index: int = 0,
        received_at: float | None = None,
        removed: bool = False,
    ) -> None:
        self.runtime.scanner.on_update(
            PoolUpdate(
                chain_id=31337,
                pool=state,
                block_number=block,
                log_index=log_index,
                received_at=received_at,
                removed=removed,
            )
        )

    def block(
        self, block: int, received_at: float | None = None, block_hash: str | None = None
    ) -> None:
        """Ingest's marker: every update of `block` has been sent."""
        self.runtime.scanner.on_block(
            BlockComplete(
                chain_id=31337, block_number=block, block_hash=block_hash, received_at=received_at
            )
        )


def sample_opportunity(
    n: int, block: int, net: int, base: str, mid: str, dex: str = "uniswap_v2"
) -> Opportunity:
    """Opportunity `n` at `block`: `base` -> `mid` on a V2 pool of `dex`, back on a V3 pool,
    `net` profit after gas; its amounts are past 64 bits, to be kept exact."""
    big = 2**200 + n
    hops = [
        OpportunityHop(
            pool="0x" + f"{n:02x}" * 20,
            dex=dex,
            kind="v2",
            fee_bps=30,
            token_in=base,
            token_out=mid,
            amount_in=big,
            amount_out=5,
        ),
        OpportunityHop(
            pool="0x" + "ee" * 20,
            dex="uniswap_v3",
            kind="v3",
            fee=500,
            token_in=mid,
            token_out=base,
            amount_in=5,
            amount_out=big + net + 7,
        ),
    ]
    return Opportunity(
        id=f"opp-{n}",
        chain_id=31337,
        block_number=block,
        base_token=base,
        amount_in=big,
        amount_out=big + net + 7,
        gross_profit=net + 7,
        gas_units=180_000,
        gas_price_wei=10**9,
        gas_cost=7,
        net_profit=net,
        hops=hops,
        action=Action(execute=True, size_fraction=1.0, gas_bid_multiplier=1.1, source="rl_agent"),
        verification=Verification(status="pending"),
        detected_at=1_700_000_000.0 + n,
        latency_ms=3.5,
    )


def sample_paper_trade(block: int, status: PaperStatus) -> PaperTrade:
    """Half of 1 WETH at a 1.25 bid: 0.03 predicted; landed, 0.02 realized."""
    landed = status == "landed"
    return PaperTrade(
        opportunity_id=f"31337-{block}-paper",
        chain_id=31337,
        account="0x" + "f" * 40,
        tx_hash="0x" + f"{block:02x}" * 32,
        block_found=block,
        block_landed=block + 1,
        status=status,
        size_fraction=0.5,
        gas_bid_multiplier=1.25,
        gas_price_bid_wei=3 * 10**9,
        amount_in=5 * 10**17,
        predicted_amount_out=53 * 10**16,
        realized_amount_out=52 * 10**16 if landed else None,
        realized_profit=2 * 10**16 if landed else None,
        gas_used=200_000,
        effective_gas_price_wei=3 * 10**9,
        gas_cost_wei=200_000 * 3 * 10**9,
        sent_at=1000.0 + block,
    )
