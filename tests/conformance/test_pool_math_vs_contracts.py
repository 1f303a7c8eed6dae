"""Conformance: Titan's pool math equals the real Uniswap contracts on the devnet, to the wei.

Hundreds of seeded random swaps, small to very large, both directions, exact input and exact
output, on every pool (three V2 DEXes, V3 at three fee tiers crossing initialized ticks), after
the market flow has moved the pools. The contracts answer through the V2 router and QuoterV2
(`eth_call` at the same block) and through real swaps; the plain-Python reference and the Rust
engine must give the same numbers.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from titan_common import pool_math
from titan_common.pool_math.v3.swap import PoolState
from titan_devnet.pool_state import read_pool_state
from titan_devnet.testing import Devnet

CASES = 800
REAL_SWAPS = 40


@dataclass(frozen=True)
class Case:
    pool: dict[str, Any]
    state: dict[str, Any]
    zero_for_one: bool
    exact_input: bool
    amount: int


@dataclass(frozen=True)
class Answer:
    amount_in: int
    amount_out: int
    sqrt_price_x96_after: int | None = None


@pytest.fixture(scope="module")
def moved(devnet: Devnet) -> Iterator[tuple[Devnet, int]]:
    """The devnet after some market flow; the block every case is priced at."""
    snapshot = devnet.snapshot()
    devnet.run_flow(steps=30, seed=11)
    yield devnet, devnet.w3.eth.block_number
    devnet.revert(snapshot)


@pytest.fixture(scope="module")
def cases(moved: tuple[Devnet, int]) -> list[Case]:
    devnet, block = moved
    states = {
        p["address"]: read_pool_state(devnet.rpc_url, p, block) for p in devnet.manifest["pools"]
    }
    balances = {
        p["address"]: [_balance(devnet, t, p["address"], block) for t in (p["token0"], p["token1"])]
        for p in devnet.manifest["pools"]
    }
    rng = random.Random(2026)
    v3_pools = devnet.pools(kind="v3")
    drawn = []
    for _ in range(CASES):
        # Half the draws on V3 pools, where the tick crossings are.
        pool = rng.choice(v3_pools if rng.random() < 0.5 else devnet.manifest["pools"])
        zero_for_one = rng.random() < 0.5
        exact_input = rng.random() < 0.7
        reserve_in, reserve_out = balances[pool["address"]][:: 1 if zero_for_one else -1]
        scale = reserve_in if exact_input else reserve_out
        # From dust to a third of the pool: small swaps and ones that cross many ticks.
        fraction = 10 ** rng.uniform(-6, -0.3) if exact_input else 10 ** rng.uniform(-6, -0.7)
        amount = max(1, int(scale * fraction))
        drawn.append(Case(pool, states[pool["address"]], zero_for_one, exact_input, amount))
    return drawn


def _balance(devnet: Devnet, token: str, owner: str, block: int) -> int:
    contract = devnet.chain.contract("TestToken", token)
    return int(contract.functions.balanceOf(owner).call(block_identifier=block))


def contract_answer(devnet: Devnet, case: Case, block: int) -> Answer:
    pool = case.pool
    token_in, token_out = (pool["token0"], pool["token1"])[:: 1 if case.zero_for_one else -1]
    dex = next(d for d in devnet.manifest["dexes"] if d["name"] == pool["dex"])
    if pool["kind"] == "v2":
        router = devnet.chain.contract("UniswapV2Router02", dex["router"])
        if case.exact_input:
            amounts = router.functions.getAmountsOut(case.amount, [token_in, token_out]).call(
                block_identifier=block
            )
        else:
            amounts = router.functions.getAmountsIn(case.amount, [token_in, token_out]).call(
                block_identifier=block
            )
        return Answer(amounts[0], amounts[1])
    quoter = devnet.chain.contract("QuoterV2", dex["quoter"])
    params = (token_in, token_out, case.amount, pool["fee"], 0)
    if case.exact_input:
        out, sqrt_after, _, _ = quoter.functions.quoteExactInputSingle(params).call(
            block_identifier=block
        )
        return Answer(case.amount, out, sqrt_after)
    amount_in, sqrt_after, _, _ = quoter.functions.quoteExactOutputSingle(params).call(
        block_identifier=block
    )
    return Answer(amount_in, case.amount, sqrt_after)


def python_answer(case: Case) -> Answer:
    s = case.state
    if s["kind"] == "v2":
        r0, r1 = int(s["reserve0"]), int(s["reserve1"])
        reserve_in, reserve_out = (r0, r1) if case.zero_for_one else (r1, r0)
        if case.exact_input:
            return Answer(
                case.amount, pool_math.get_amount_out(case.amount, reserve_in, reserve_out)
            )
        return Answer(pool_math.get_amount_in(case.amount, reserve_in, reserve_out), case.amount)
    state = PoolState(
        sqrt_price_x96=int(s["sqrt_price_x96"]),
        tick=s["tick"],
        liquidity=int(s["liquidity"]),
        fee=s["fee"],
        tick_spacing=s["tick_spacing"],
        ticks=tuple((t["index"], int(t["liquidity_net"])) for t in s["ticks"]),
    )
    specified = case.amount if case.exact_input else -case.amount
    result = pool_math.swap(state, case.zero_for_one, specified)
    paid, received = (
        (result.amount0, -result.amount1)
        if case.zero_for_one
        else (result.amount1, -result.amount0)
    )
    return Answer(paid, received, result.sqrt_price_x96)


def engine_answer(client: httpx.Client, case: Case) -> Answer:
    body: dict[str, Any] = {
        "chain_id": 31337,
        "pool_address": case.pool["address"],
        "dex": case.pool["dex"],
        "state": case.state,
        "zero_for_one": case.zero_for_one,
        ("amount_in" if case.exact_input else "amount_out"): str(case.amount),
    }
    response = client.post("/api/pool", json=body)
    assert response.status_code == 200, response.text
    quote = response.json()["quote"]
    after = quote.get("sqrt_price_x96_after")
    return Answer(int(quote["amount_in"]), int(quote["amount_out"]), int(after) if after else None)


def compare(name: str, cases: list[Case], theirs: list[Answer], ours: list[Answer]) -> None:
    differences = [(c, t, o) for c, t, o in zip(cases, theirs, ours, strict=True) if t != o]
    kinds = {k: sum(1 for c in cases if c.pool["kind"] == k) for k in ("v2", "v3")}
    print(
        f"\n{name}: compared {len(cases)} swaps ({kinds['v2']} V2, {kinds['v3']} V3; "
        f"{sum(c.exact_input for c in cases)} exact-in) against the contracts: "
        f"{len(differences)} differences"
    )
    assert not differences, differences[:3]


def test_python_reference_equals_the_contracts(
    moved: tuple[Devnet, int], cases: list[Case]
) -> None:
    devnet, block = moved
    theirs = [contract_answer(devnet, c, block) for c in cases]
    compare("python reference", cases, theirs, [python_answer(c) for c in cases])
    crossed = sum(
        1 for c, a in zip(cases, theirs, strict=True)
        if a.sqrt_price_x96_after is not None and _ticks_between(c, a.sqrt_price_x96_after) > 0
    )  # fmt: skip
    print(f"V3 swaps that crossed at least one initialized tick: {crossed}")
    assert crossed >= 40


def _ticks_between(case: Case, sqrt_after: int) -> int:
    from titan_common.pool_math.v3.tick_math import get_tick_at_sqrt_ratio

    low, high = sorted((case.state["tick"], get_tick_at_sqrt_ratio(sqrt_after)))
    return sum(1 for t in case.state["ticks"] if low < t["index"] <= high)


def test_engine_equals_the_contracts(
    moved: tuple[Devnet, int], cases: list[Case], engine_url: str
) -> None:
    devnet, block = moved
    theirs = [contract_answer(devnet, c, block) for c in cases]
    with httpx.Client(base_url=engine_url, timeout=10) as client:
        ours = [engine_answer(client, c) for c in cases]
    compare("engine", cases, theirs, ours)


def test_real_swaps_move_exactly_what_the_math_predicts(devnet: Devnet) -> None:
    """Single-hop swaps through our executor for real: balances change by the predicted wei."""
    rng = random.Random(7)
    executor = devnet.chain.contract(
        "TitanArbExecutor", devnet.manifest["contracts"]["arb_executor"]
    )
    verifier = devnet.manifest["verifier"]
    snapshot = devnet.snapshot()
    try:
        for i in range(REAL_SWAPS):
            pool = rng.choice(devnet.manifest["pools"])
            zero_for_one = rng.random() < 0.5
            block = devnet.w3.eth.block_number
            state = read_pool_state(devnet.rpc_url, pool, block)
            token_in, token_out = (pool["token0"], pool["token1"])[:: 1 if zero_for_one else -1]
            scale = _balance(devnet, token_in, pool["address"], block)
            amount = max(1, int(scale * 10 ** rng.uniform(-6, -1.5)))
            case = Case(pool, state, zero_for_one, True, amount)
            predicted = python_answer(case).amount_out
            before = _balance(devnet, token_out, verifier, block)
            hop = (pool["address"], 0 if pool["kind"] == "v2" else 1, zero_for_one, 30)
            tx = executor.functions.execute([hop], amount, predicted).transact(
                {"from": verifier, "gas": 1_500_000 + i}
            )
            assert devnet.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
            received = _balance(devnet, token_out, verifier, devnet.w3.eth.block_number) - before
            assert received == predicted, (pool, amount)
        print(f"\nreal swaps through the executor: {REAL_SWAPS}, all exactly as predicted")
    finally:
        devnet.revert(snapshot)
