"""Deploy a scenario on a fresh anvil: tokens, three V2 DEXes, Uniswap V3, our executor, the
pools with their liquidity, funded traders; then write the manifest other services read."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from rich.progress import Progress
from web3 import Web3

from titan_devnet.chain import Chain
from titan_devnet.scenario import TICK_SPACING, V2_DEXES, PoolSpec, Scenario, TokenSpec, expand

MAX_UINT = 2**256 - 1
MIN_TICK, MAX_TICK = -887272, 887272
FAR_FUTURE = 2**40
# Every account but the deployer gets this many dollars of each token.
ACCOUNT_FUNDING_USD = 5_000_000


@dataclass
class Deployment:
    manifest: dict[str, Any]


def raw_amount(usd: float, token: TokenSpec) -> int:
    return int(usd / token.usd * 10**token.decimals)


def deploy(w3: Web3, scenario: Scenario, seed: int, show_progress: bool = True) -> dict[str, Any]:
    chain = Chain(w3)
    deployer, verifier = chain.accounts[0], chain.accounts[1]
    tokens, pools = expand(scenario, seed)
    steps = 6 + len(pools) + len(chain.accounts)
    with Progress(disable=not show_progress, transient=True) as progress:
        task = progress.add_task(f"deploying {scenario.name}", total=steps)
        weth = chain.deploy("WETH9")
        token_contracts = {"WETH": weth}
        for token in tokens:
            if token.symbol != "WETH":
                token_contracts[token.symbol] = chain.deploy(
                    "TestToken", f"Titan {token.symbol}", token.symbol, token.decimals
                )
        progress.advance(task)
        dexes: list[dict[str, Any]] = []
        routers = {}
        factories = {}
        for name in V2_DEXES:
            factory = chain.deploy("UniswapV2Factory", deployer)
            router = chain.deploy("UniswapV2Router02", factory.address, weth.address)
            factories[name], routers[name] = factory, router
            dexes.append(
                {"name": name, "kind": "v2", "factory": factory.address,
                 "router": router.address, "fee_bps": 30}
            )  # fmt: skip
        progress.advance(task)
        v3_factory = chain.deploy("UniswapV3Factory")
        # The descriptor only renders NFT metadata; any address will do on the devnet.
        npm = chain.deploy("NonfungiblePositionManager", v3_factory.address, weth.address, deployer)
        swap_router = chain.deploy("SwapRouter", v3_factory.address, weth.address)
        quoter = chain.deploy("QuoterV2", v3_factory.address, weth.address)
        executor = chain.deploy("TitanArbExecutor")
        dexes.append(
            {"name": "uniswap_v3", "kind": "v3", "factory": v3_factory.address,
             "router": swap_router.address, "quoter": quoter.address}
        )  # fmt: skip
        progress.advance(task)

        spenders = [*routers.values(), npm, swap_router, executor]
        by_symbol = {t.symbol: t for t in tokens}
        total_usd = sum(p.liquidity_usd for p in pools) * 4
        for account in chain.accounts:
            usd = total_usd if account == deployer else ACCOUNT_FUNDING_USD
            _fund(chain, account, token_contracts, by_symbol, usd, spenders)
            progress.advance(task)
        chain.settle()

        manifest_pools = []
        for spec in pools:
            manifest_pools.append(
                _create_pool(chain, spec, by_symbol, token_contracts, factories, routers,
                             v3_factory, npm, scenario)
            )  # fmt: skip
            progress.advance(task)
        chain.settle()

    return {
        "chain_id": w3.eth.chain_id,
        "scenario": scenario.name,
        "seed": seed,
        "start_block": w3.eth.block_number,
        "deployer": deployer,
        "verifier": verifier,
        "traders": chain.accounts[2:],
        "contracts": {
            "weth": weth.address,
            "v3_factory": v3_factory.address,
            "v3_position_manager": npm.address,
            "v3_swap_router": swap_router.address,
            "v3_quoter_v2": quoter.address,
            "arb_executor": executor.address,
        },
        "dexes": dexes,
        "tokens": [
            {
                "symbol": t.symbol,
                "address": token_contracts[t.symbol].address,
                "decimals": t.decimals,
                "usd": t.usd,
            }
            for t in tokens
        ],
        "pools": manifest_pools,
        "deployed_at": int(time.time()),
    }


def _fund(
    chain: Chain,
    account: str,
    contracts: dict[str, Any],
    tokens: dict[str, TokenSpec],
    usd: float,
    spenders: list[Any],
) -> None:
    for symbol, contract in contracts.items():
        amount = raw_amount(usd, tokens[symbol])
        if symbol == "WETH":
            chain.rpc("anvil_setBalance", account, hex(amount * 2 + 10**24))
            chain.send(contract, "deposit", sender=account, value=amount, gas=100_000)
        else:
            chain.send(contract, "mint", account, amount, sender=chain.accounts[0], gas=100_000)
        for spender in spenders:
            chain.send(contract, "approve", spender.address, MAX_UINT, sender=account, gas=100_000)


def _sorted_pair(spec: PoolSpec, token_contracts: dict[str, Any]) -> tuple[str, str, bool]:
    a, b = (token_contracts[s].address for s in spec.pair)
    flipped = int(a, 16) > int(b, 16)
    return (b, a, True) if flipped else (a, b, False)


def _create_pool(
    chain: Chain,
    spec: PoolSpec,
    tokens: dict[str, TokenSpec],
    token_contracts: dict[str, Any],
    factories: dict[str, Any],
    routers: dict[str, Any],
    v3_factory: Any,
    npm: Any,
    scenario: Scenario,
) -> dict[str, Any]:
    deployer = chain.accounts[0]
    base, quote = (tokens[s] for s in spec.pair)
    half_usd = spec.liquidity_usd / 2
    token0, token1, flipped = _sorted_pair(spec, token_contracts)
    if spec.kind == "v2":
        amount_base = raw_amount(half_usd, base)
        amount_quote = raw_amount(half_usd * spec.skew, quote)
        chain.send(
            routers[spec.dex], "addLiquidity",
            token_contracts[base.symbol].address, token_contracts[quote.symbol].address,
            amount_base, amount_quote, 0, 0, deployer, FAR_FUTURE, sender=deployer,
        )  # fmt: skip
        chain.settle()
        address = factories[spec.dex].functions.getPair(token0, token1).call()
        return {"address": address, "dex": spec.dex, "kind": "v2",
                "token0": token0, "token1": token1, "fee_bps": 30}  # fmt: skip

    spacing = TICK_SPACING[spec.fee]
    # Price of token0 in token1, in raw units.
    t0, t1 = (quote, base) if flipped else (base, quote)
    human = (t0.usd / t1.usd) * (spec.skew if not flipped else 1 / spec.skew)
    price_raw = human * 10 ** (t1.decimals - t0.decimals)
    sqrt_price_x96 = math.isqrt(int(price_raw * 2**192))
    chain.send(npm, "createAndInitializePoolIfNecessary", token0, token1, spec.fee,
               sqrt_price_x96, sender=deployer)  # fmt: skip
    tick = math.floor(math.log(price_raw) / math.log(1.0001))
    for r in scenario.v3_ranges:
        lower = max(MIN_TICK // spacing * spacing + spacing, (tick + r.lower) // spacing * spacing)
        upper = min(MAX_TICK // spacing * spacing, -((-(tick + r.upper)) // spacing) * spacing)
        if lower >= upper:
            continue
        usd = spec.liquidity_usd * r.weight
        params = (token0, token1, spec.fee, lower, upper, raw_amount(usd, t0), raw_amount(usd, t1),
                  0, 0, deployer, FAR_FUTURE)  # fmt: skip
        chain.send(npm, "mint", params, sender=deployer)
    chain.settle()
    address = v3_factory.functions.getPool(token0, token1, spec.fee).call()
    return {"address": address, "dex": "uniswap_v3", "kind": "v3", "token0": token0,
            "token1": token1, "fee": spec.fee, "tick_spacing": spacing}  # fmt: skip
