"""The market flow: seeded, deterministic swaps through the real routers, block after block.

Each token's fair price takes a random walk. Informed traders push a random pool towards the
fair price; noise traders swap heavy-tailed sizes in random directions. Each DEX gets its own
flow, so prices drift apart and arbitrage appears and disappears. Priority fees and the number
of swaps per block vary, so the base fee moves. The same seed from the same chain state sends
the same swaps.
"""

from __future__ import annotations

import itertools
import math
import random
import threading
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.contract import Contract

from titan_devnet.chain import Chain

FAR_FUTURE = 2**40
GWEI = 10**9
# Distinct gas limits for every swap sent from this process (anvil quirk after evm_revert:
# a transaction identical to an earlier one may never get a receipt).
_gas_offsets = itertools.count()


@dataclass(frozen=True)
class Swap:
    pool: dict[str, Any]
    zero_for_one: bool
    amount_in: int
    trader: str
    priority_fee: int


class MarketFlow:
    def __init__(self, w3: Web3, manifest: dict[str, Any], seed: int = 1) -> None:
        self.chain = Chain(w3)
        self.manifest = manifest
        self.rng = random.Random(seed)
        self.tokens = {t["address"]: t for t in manifest["tokens"]}
        self.fair = {address: math.log(t["usd"]) for address, t in self.tokens.items()}
        self.routers = {
            d["name"]: self.chain.contract(
                "UniswapV2Router02" if d["kind"] == "v2" else "SwapRouter", d["router"]
            )
            for d in manifest["dexes"]
        }
        # Made on first use: a contract object costs milliseconds, and a scenario may have
        # 10,000 pools (the flow would take a minute to start).
        self._pools: dict[str, Contract] = {}
        self.swaps_sent = 0

    def step(self) -> list[Swap]:
        """Send one block's worth of swaps (not waiting for them to be mined)."""
        for address in self.fair:
            self.fair[address] += self.rng.gauss(0.0, 0.002)
        count = min(24, int(self.rng.paretovariate(1.2) * 3))
        swaps = [self._draw() for _ in range(count)]
        # The next block's base fee (anvil may have been told to set it).
        base_fee = int(self.chain.w3.eth.get_block("pending").get("baseFeePerGas", 0) or 0)
        for swap in swaps:
            self._send(swap, base_fee)
        self.swaps_sent += len(swaps)
        return swaps

    def _draw(self) -> Swap:
        pool = self.rng.choice(self.manifest["pools"])
        t0, t1 = self.tokens[pool["token0"]], self.tokens[pool["token1"]]
        informed = self.rng.random() < 0.5
        if informed:
            fair = math.exp(self.fair[pool["token0"]] - self.fair[pool["token1"]])
            zero_for_one = self._pool_price(pool, t0, t1) > fair  # sell token0 when it's dear
        else:
            zero_for_one = self.rng.random() < 0.5
        usd = min(250_000.0, 500.0 * self.rng.paretovariate(1.3))
        token_in = t0 if zero_for_one else t1
        amount_in = int(usd / token_in["usd"] * 10 ** token_in["decimals"])
        trader = self.rng.choice(self.manifest["traders"])
        priority_fee = int(self.rng.uniform(0.1, 5.0) * GWEI)
        return Swap(pool, zero_for_one, max(amount_in, 1), trader, priority_fee)

    def _pool_price(self, pool: dict[str, Any], t0: dict[str, Any], t1: dict[str, Any]) -> float:
        """Human price of token0 in token1; floats are fine for deciding a direction."""
        contract = self._pool_contract(pool)
        if pool["kind"] == "v2":
            r0, r1, _ = contract.functions.getReserves().call()
            raw = r1 / r0 if r0 else 0.0
        else:
            sqrt_price = contract.functions.slot0().call()[0]
            raw = (sqrt_price / 2**96) ** 2
        return float(raw * 10 ** (t0["decimals"] - t1["decimals"]))

    def _pool_contract(self, pool: dict[str, Any]) -> Contract:
        contract = self._pools.get(pool["address"])
        if contract is None:
            name = "UniswapV2Pair" if pool["kind"] == "v2" else "UniswapV3Pool"
            contract = self._pools[pool["address"]] = self.chain.contract(name, pool["address"])
        return contract

    def _send(self, swap: Swap, base_fee: int) -> None:
        pool = swap.pool
        token_in, token_out = (
            (pool["token0"], pool["token1"])
            if swap.zero_for_one
            else (pool["token1"], pool["token0"])
        )
        router = self.routers[pool["dex"]]
        if pool["kind"] == "v2":
            data = router.encode_abi(
                "swapExactTokensForTokens",
                args=[swap.amount_in, 0, [token_in, token_out], swap.trader, FAR_FUTURE],
            )
        else:
            params = (
                token_in,
                token_out,
                pool["fee"],
                swap.trader,
                FAR_FUTURE,
                swap.amount_in,
                0,
                0,
            )
            data = router.encode_abi("exactInputSingle", args=[params])
        tx = {
            "from": swap.trader,
            "to": router.address,
            "data": data,
            "gas": 600_000 + next(_gas_offsets) % 200_000,
            "maxPriorityFeePerGas": swap.priority_fee,
            "maxFeePerGas": 3 * base_fee + swap.priority_fee,
        }
        self.chain.w3.eth.send_transaction(tx)  # type: ignore[arg-type]


def run_forever(flow: MarketFlow, stop: threading.Event, block_time: float) -> None:
    """One step per block, until `stop` is set."""
    w3 = flow.chain.w3
    last = w3.eth.block_number
    while not stop.is_set():
        flow.step()
        while not stop.is_set():
            if stop.wait(block_time / 10 if block_time > 0 else 0.01):
                return
            current = w3.eth.block_number
            if current != last:
                last = current
                break
