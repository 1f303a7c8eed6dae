"""The devnet: real contracts deployed as the scenario says, a working executor, a flow that
moves prices apart, determinism by seed."""

from __future__ import annotations

import math
from typing import Any

import pytest
from web3 import Web3
from web3.exceptions import ContractCustomError

from titan_devnet.flow import MarketFlow
from titan_devnet.scenario import expand, load
from titan_devnet.testing import Devnet

SYNC = Web3.keccak(text="Sync(uint112,uint112)").hex()
V3_SWAP = Web3.keccak(text="Swap(address,address,int256,int256,uint160,uint128,int24)").hex()


def human_price(devnet: Devnet, pool: dict[str, Any]) -> float:
    """Price of token0 in token1 in whole tokens (floats: only for comparing prices)."""
    tokens = {t["address"]: t for t in devnet.manifest["tokens"]}
    d0, d1 = tokens[pool["token0"]]["decimals"], tokens[pool["token1"]]["decimals"]
    if pool["kind"] == "v2":
        r0, r1, _ = (
            devnet.chain.contract("UniswapV2Pair", pool["address"]).functions.getReserves().call()
        )
        raw = r1 / r0
    else:
        sqrt_price = (
            devnet.chain.contract("UniswapV3Pool", pool["address"]).functions.slot0().call()[0]
        )
        raw = (sqrt_price / 2**96) ** 2
    return raw * 10 ** (d0 - d1)


@pytest.fixture
def fresh(devnet: Devnet):  # type: ignore[no-untyped-def]
    """Each test that moves the chain leaves it as it found it."""
    snapshot = devnet.snapshot()
    yield devnet
    devnet.revert(snapshot)


def test_manifest_pools_have_the_scenario_prices_and_many_v3_ranges(devnet: Devnet) -> None:
    _, pools = expand(load("default"), seed=1)
    assert len(devnet.manifest["pools"]) == len(pools)
    usd = {t["address"]: t["usd"] for t in devnet.manifest["tokens"]}
    skew = load("default").price_skew_bps / 10_000
    for pool in devnet.manifest["pools"]:
        expected = usd[pool["token0"]] / usd[pool["token1"]]
        assert math.isclose(human_price(devnet, pool), expected, rel_tol=skew + 1e-3), pool
        assert Web3.to_checksum_address(pool["address"]) == pool["address"]
        assert int(pool["token0"], 16) < int(pool["token1"], 16)
    v3 = devnet.pools(kind="v3")
    assert {p["fee"] for p in v3} == {500, 3000, 10000}
    for pool in v3:
        contract = devnet.chain.contract("UniswapV3Pool", pool["address"])
        assert contract.functions.tickSpacing().call() == pool["tick_spacing"]
        tick = contract.functions.slot0().call()[1]
        spacing = pool["tick_spacing"]
        words = {(tick // spacing + offset) >> 8 for offset in range(-2048, 2049, 256)}
        initialized = sum(bin(contract.functions.tickBitmap(w).call()).count("1") for w in words)
        assert initialized >= 8, f"{pool['address']} has only {initialized} initialized ticks"


def test_router_swaps_work_on_every_dex(fresh: Devnet) -> None:
    for dex in ("uniswap_v2", "sushiswap", "quickswap", "uniswap_v3"):
        pool = fresh.pools(dex=dex)[0]
        before = human_price(fresh, pool)
        receipt = fresh.big_swap(pool["address"], usd=10_000, zero_for_one=True)
        topics = {log["topics"][0].hex() for log in receipt["logs"]}
        assert (SYNC if pool["kind"] == "v2" else V3_SWAP) in topics
        assert human_price(fresh, pool) < before  # selling token0 makes it cheaper


def _weth_usdc(devnet: Devnet, dex: str) -> dict[str, Any]:
    pair = {devnet.token("WETH")["address"], devnet.token("USDC")["address"]}
    return next(p for p in devnet.pools(dex=dex) if {p["token0"], p["token1"]} == pair)


def test_executor_performs_a_cycle_and_enforces_the_minimum(fresh: Devnet) -> None:
    weth = fresh.token("WETH")["address"]
    first, second = _weth_usdc(fresh, "uniswap_v2"), _weth_usdc(fresh, "uniswap_v3")
    hops = [
        (first["address"], 0, first["token0"] == weth, 30),
        (second["address"], 1, second["token0"] != weth, 0),
    ]
    executor = fresh.chain.contract("TitanArbExecutor", fresh.manifest["contracts"]["arb_executor"])
    verifier = fresh.manifest["verifier"]
    amount_in = 10**18
    amounts = executor.functions.execute(hops, amount_in, 0).call({"from": verifier})
    router = fresh.chain.contract("UniswapV2Router02", fresh.manifest["dexes"][0]["router"])
    usdc = fresh.token("USDC")["address"]
    assert amounts[1] == router.functions.getAmountsOut(amount_in, [weth, usdc]).call()[1]
    assert 0 < amounts[2] < amount_in  # a round trip through two fees loses
    selector = Web3.keccak(text="InsufficientOutput(uint256,uint256)")[:4].hex()
    with pytest.raises(ContractCustomError, match=selector):
        executor.functions.execute(hops, amount_in, amounts[2] + 1).call({"from": verifier})


def test_flow_emits_events_and_moves_prices_apart(fresh: Devnet) -> None:
    pools = [_weth_usdc(fresh, dex) for dex in ("uniswap_v2", "sushiswap", "quickswap")]
    start = fresh.w3.eth.block_number
    spread_before = _spread([human_price(fresh, p) for p in pools])
    flow = fresh.run_flow(steps=40, seed=3)
    assert flow.swaps_sent > 40
    logs = fresh.w3.eth.get_logs({"fromBlock": start + 1, "toBlock": "latest"})
    topics = {log["topics"][0].hex() for log in logs if log["topics"]}
    assert SYNC in topics and V3_SWAP in topics
    moved = [
        p for p in fresh.manifest["pools"]
        if not math.isclose(human_price(fresh, p), _initial_price(fresh, p, start), rel_tol=1e-9)
    ]  # fmt: skip
    assert len(moved) >= 10
    assert _spread([human_price(fresh, p) for p in pools]) != spread_before


def _spread(prices: list[float]) -> float:
    return max(prices) / min(prices) - 1


def _initial_price(devnet: Devnet, pool: dict[str, Any], block: int) -> float:
    tokens = {t["address"]: t for t in devnet.manifest["tokens"]}
    d0, d1 = tokens[pool["token0"]]["decimals"], tokens[pool["token1"]]["decimals"]
    if pool["kind"] == "v2":
        contract = devnet.chain.contract("UniswapV2Pair", pool["address"])
        r0, r1, _ = contract.functions.getReserves().call(block_identifier=block)
        raw = r1 / r0
    else:
        contract = devnet.chain.contract("UniswapV3Pool", pool["address"])
        raw = (contract.functions.slot0().call(block_identifier=block)[0] / 2**96) ** 2
    return raw * 10 ** (d0 - d1)


def test_same_seed_sends_the_same_swaps(devnet: Devnet) -> None:
    runs = []
    for _ in range(2):
        snapshot = devnet.snapshot()
        flow = MarketFlow(devnet.w3, devnet.manifest, seed=7)
        runs.append([flow.step() for _ in range(10)])
        devnet.revert(snapshot)
    assert runs[0] == runs[1]
    other = MarketFlow(devnet.w3, devnet.manifest, seed=8)
    snapshot = devnet.snapshot()
    assert [other.step() for _ in range(10)] != runs[0]
    devnet.revert(snapshot)
