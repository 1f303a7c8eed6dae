"""Deploy a scenario on a fresh anvil: tokens, three V2 DEXes, Uniswap V3, our executor, the
pools with their liquidity, funded traders; then write the manifest other services read."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from rich.console import Console
from rich.progress import Progress
from web3 import Web3
from web3.contract import Contract

from titan_devnet.batch import Receipt, TxBatch
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
    by_symbol = {t.symbol: t for t in tokens}
    rpc_url = str(getattr(w3.provider, "endpoint_uri", ""))
    # On stderr: stdout is the CLI's answer (its `ready` line).
    console = Console(stderr=True)
    with Progress(console=console, disable=not show_progress, transient=True) as progress:
        # In transactions; a V3 pool's is an estimate until its ranges are known.
        estimate = (len(tokens) + 12) + len(chain.accounts) * len(tokens) * (1 + len(SPENDERS))
        estimate += sum(1 if p.kind == "v2" else 1 + len(scenario.v3_ranges) for p in pools)
        task = progress.add_task(f"deploying {scenario.name}", total=estimate)
        with TxBatch(chain, rpc_url, on_mined=lambda n: progress.advance(task, n)) as batch:
            c = _deploy_contracts(chain, batch, tokens)
            total_usd = sum(p.liquidity_usd for p in pools) * 4
            for account in chain.accounts:
                usd = total_usd if account == deployer else ACCOUNT_FUNDING_USD
                _fund(chain, batch, account, c, by_symbol, usd)
            batch.flush()  # the pools spend the deployer's tokens
            manifest_pools = [_create_pool(batch, spec, by_symbol, c, scenario) for spec in pools]
            progress.update(task, total=batch.sent + batch.queued)
        unmade = [p for p in manifest_pools if p["address"] is None]
        if unmade:
            raise RuntimeError(f"{len(unmade)} pools without a creation log, first: {unmade[0]}")

    return {
        "chain_id": w3.eth.chain_id,
        "scenario": scenario.name,
        "seed": seed,
        "start_block": w3.eth.block_number,
        "deployer": deployer,
        "verifier": verifier,
        "traders": chain.accounts[2:],
        "contracts": {
            "weth": c.weth.address,
            "v3_factory": c.v3_factory.address,
            "v3_position_manager": c.npm.address,
            "v3_swap_router": c.swap_router.address,
            "v3_quoter_v2": c.quoter.address,
            "arb_executor": c.executor.address,
        },
        "dexes": [
            *(
                {
                    "name": name,
                    "kind": "v2",
                    "factory": c.factories[name].address,
                    "router": c.routers[name].address,
                    "fee_bps": 30,
                }
                for name in V2_DEXES
            ),
            {
                "name": "uniswap_v3",
                "kind": "v3",
                "factory": c.v3_factory.address,
                "router": c.swap_router.address,
                "quoter": c.quoter.address,
            },
        ],
        "tokens": [
            {
                "symbol": t.symbol,
                "address": c.tokens[t.symbol].address,
                "decimals": t.decimals,
                "usd": t.usd,
            }
            for t in tokens
        ],
        "pools": manifest_pools,
        "deployed_at": int(time.time()),
    }


@dataclass
class Contracts:
    chain: Chain
    addresses: dict[str, str] = field(default_factory=dict)

    def _get(self, key: str, name: str) -> Contract:
        return self.chain.contract(name, self.addresses[key])

    def setter(self, key: str) -> Callable[[str], None]:
        return lambda address: self.addresses.__setitem__(key, address)

    @cached_property
    def tokens(self) -> dict[str, Contract]:
        return {
            key.removeprefix("token:"): self._get(key, "WETH9" if key == "token:WETH" else "TestToken")
            for key in self.addresses if key.startswith("token:")
        }  # fmt: skip

    @cached_property
    def weth(self) -> Contract:
        return self._get("token:WETH", "WETH9")

    @cached_property
    def factories(self) -> dict[str, Contract]:
        return {n: self._get(f"factory:{n}", "UniswapV2Factory") for n in V2_DEXES}

    @cached_property
    def routers(self) -> dict[str, Contract]:
        return {n: self._get(f"router:{n}", "UniswapV2Router02") for n in V2_DEXES}

    @cached_property
    def v3_factory(self) -> Contract:
        return self._get("v3_factory", "UniswapV3Factory")

    @cached_property
    def npm(self) -> Contract:
        return self._get("npm", "NonfungiblePositionManager")

    @cached_property
    def swap_router(self) -> Contract:
        return self._get("swap_router", "SwapRouter")

    @cached_property
    def quoter(self) -> Contract:
        return self._get("quoter", "QuoterV2")

    @cached_property
    def executor(self) -> Contract:
        return self._get("executor", "TitanArbExecutor")

    @cached_property
    def spenders(self) -> list[Contract]:
        return [*self.routers.values(), self.npm, self.swap_router, self.executor]


# Every account approves these for every token (the names are `Contracts` properties).
SPENDERS = (*(f"router:{n}" for n in V2_DEXES), "npm", "swap_router", "executor")


def _deploy_contracts(chain: Chain, batch: TxBatch, tokens: list[TokenSpec]) -> Contracts:
    """Two blocks: what needs no address, then what is built on those addresses."""
    deployer = chain.accounts[0]
    c = Contracts(chain)
    batch.deploy("WETH9", sender=deployer, on_address=c.setter("token:WETH"))
    for token in tokens:
        if token.symbol != "WETH":
            batch.deploy("TestToken", f"Titan {token.symbol}", token.symbol, token.decimals,
                         sender=deployer, on_address=c.setter(f"token:{token.symbol}"))  # fmt: skip
    for name in V2_DEXES:
        batch.deploy("UniswapV2Factory", deployer, sender=deployer,
                     on_address=c.setter(f"factory:{name}"))  # fmt: skip
    batch.deploy("UniswapV3Factory", sender=deployer, on_address=c.setter("v3_factory"))
    batch.deploy("TitanArbExecutor", sender=deployer, on_address=c.setter("executor"))
    batch.flush()
    weth = c.addresses["token:WETH"]
    for name in V2_DEXES:
        batch.deploy("UniswapV2Router02", c.addresses[f"factory:{name}"], weth,
                     sender=deployer, on_address=c.setter(f"router:{name}"))  # fmt: skip
    v3_factory = c.addresses["v3_factory"]
    # The descriptor only renders NFT metadata; any address will do on the devnet.
    batch.deploy("NonfungiblePositionManager", v3_factory, weth, deployer,
                 sender=deployer, on_address=c.setter("npm"))  # fmt: skip
    batch.deploy(
        "SwapRouter", v3_factory, weth, sender=deployer, on_address=c.setter("swap_router")
    )
    batch.deploy("QuoterV2", v3_factory, weth, sender=deployer, on_address=c.setter("quoter"))
    batch.flush()
    return c


def _fund(
    chain: Chain,
    batch: TxBatch,
    account: str,
    c: Contracts,
    tokens: dict[str, TokenSpec],
    usd: float,
) -> None:
    spenders = c.spenders
    for symbol, contract in c.tokens.items():
        amount = raw_amount(usd, tokens[symbol])
        if symbol == "WETH":
            chain.rpc("anvil_setBalance", account, hex(amount * 2 + 10**24))
            batch.send(contract, "deposit", sender=account, value=amount, gas=100_000)
        else:
            batch.send(contract, "mint", account, amount, sender=chain.accounts[0], gas=100_000)
        for spender in spenders:
            batch.send(contract, "approve", spender.address, MAX_UINT, sender=account, gas=100_000)


def _sorted_pair(spec: PoolSpec, c: Contracts) -> tuple[str, str, bool]:
    a, b = (c.tokens[s].address for s in spec.pair)
    flipped = int(a, 16) > int(b, 16)
    return (b, a, True) if flipped else (a, b, False)


def _created(log_topic: str, factory: str, entry: dict[str, Any]) -> Callable[[Receipt], None]:
    """Reads the pool's address from its factory's creation log in the receipt."""

    def read(receipt: Receipt) -> None:
        for log in receipt["logs"]:
            if log["address"].lower() == factory.lower() and log["topics"][0] == log_topic:
                # PairCreated data: pair, index; PoolCreated data: tickSpacing, pool.
                word = log["data"][2:66] if entry["kind"] == "v2" else log["data"][66:130]
                entry["address"] = Web3.to_checksum_address("0x" + word[24:])
                return
        raise RuntimeError(f"no creation log for {entry}")

    return read


PAIR_CREATED = Web3.keccak(text="PairCreated(address,address,address,uint256)").to_0x_hex()
POOL_CREATED = Web3.keccak(text="PoolCreated(address,address,uint24,int24,address)").to_0x_hex()


def _create_pool(
    batch: TxBatch,
    spec: PoolSpec,
    tokens: dict[str, TokenSpec],
    c: Contracts,
    scenario: Scenario,
) -> dict[str, Any]:
    """Queue the pool's transactions; its manifest entry gets its address once they are mined."""
    deployer = batch.chain.accounts[0]
    base, quote = (tokens[s] for s in spec.pair)
    half_usd = spec.liquidity_usd / 2
    token0, token1, flipped = _sorted_pair(spec, c)
    if spec.kind == "v2":
        entry = {"address": None, "dex": spec.dex, "kind": "v2",
                 "token0": token0, "token1": token1, "fee_bps": 30}  # fmt: skip
        amount_base = raw_amount(half_usd, base)
        amount_quote = raw_amount(half_usd * spec.skew, quote)
        factory = c.factories[spec.dex].address
        batch.send(
            c.routers[spec.dex], "addLiquidity",
            c.tokens[base.symbol].address, c.tokens[quote.symbol].address,
            amount_base, amount_quote, 0, 0, deployer, FAR_FUTURE, sender=deployer,
            on_receipt=_created(PAIR_CREATED, factory, entry),
        )  # fmt: skip
        return entry

    spacing = TICK_SPACING[spec.fee]
    entry = {"address": None, "dex": "uniswap_v3", "kind": "v3", "token0": token0,
             "token1": token1, "fee": spec.fee, "tick_spacing": spacing}  # fmt: skip
    # Price of token0 in token1, in raw units.
    t0, t1 = (quote, base) if flipped else (base, quote)
    human = (t0.usd / t1.usd) * (spec.skew if not flipped else 1 / spec.skew)
    price_raw = human * 10 ** (t1.decimals - t0.decimals)
    sqrt_price_x96 = math.isqrt(int(price_raw * 2**192))
    batch.send(c.npm, "createAndInitializePoolIfNecessary", token0, token1, spec.fee,
               sqrt_price_x96, sender=deployer,
               on_receipt=_created(POOL_CREATED, c.v3_factory.address, entry))  # fmt: skip
    tick = math.floor(math.log(price_raw) / math.log(1.0001))
    for r in scenario.v3_ranges:
        lower = max(MIN_TICK // spacing * spacing + spacing, (tick + r.lower) // spacing * spacing)
        upper = min(MAX_TICK // spacing * spacing, -((-(tick + r.upper)) // spacing) * spacing)
        if lower >= upper:
            continue
        usd = spec.liquidity_usd * r.weight
        params = (token0, token1, spec.fee, lower, upper, raw_amount(usd, t0), raw_amount(usd, t1),
                  0, 0, deployer, FAR_FUTURE)  # fmt: skip
        batch.send(c.npm, "mint", params, sender=deployer)
    return entry
