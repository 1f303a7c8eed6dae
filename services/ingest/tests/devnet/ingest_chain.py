"""The devnet as ingest's chain tests drive it: `DevChain` mines, snapshots and reverts, steps
the market flow, makes pools and changes V3 liquidity, through the real contracts."""

from __future__ import annotations

import contextlib
import itertools
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.logs import DISCARD

from titan_devnet.chain import Chain
from titan_devnet.flow import MarketFlow

FAR_FUTURE = 2**40
V3_SPACING = {500: 10, 3000: 60, 10000: 200}
# Distinct gas limits: after evm_revert, anvil may never mine a transaction identical to one
# sent before it.
_gas = itertools.count(1)


@dataclass(frozen=True)
class Position:
    token_id: int
    lower: int
    upper: int


def block_hash(block: Any) -> str:
    """A block's hash as ingest keeps it: 0x and lowercase hex."""
    return "0x" + bytes(block["hash"]).hex()


class DevChain:
    def __init__(
        self, w3: Web3, manifest: dict[str, Any], manifest_path: Path, rpc_url: str, ws_url: str
    ) -> None:
        self.w3 = w3
        self.manifest_path = manifest_path
        self.manifest = manifest
        self.rpc_url = rpc_url
        self.ws_url = ws_url
        self.chain = Chain(w3)
        self.flow = MarketFlow(w3, manifest, seed=7)
        self.npm = self.chain.contract(
            "NonfungiblePositionManager", manifest["contracts"]["v3_position_manager"]
        )
        self.deployer = manifest["deployer"]
        self._batch: list[tuple[str, Any]] | None = None  # sent, not mined yet (one_block)

    def rpc(self, method: str, *params: Any) -> Any:
        return self.chain.rpc(method, *params)

    @property
    def head(self) -> int:
        return int(self.w3.eth.block_number)

    def latest(self) -> tuple[int, str]:
        """The newest block's number and hash, read together."""
        block = self.w3.eth.get_block("latest")
        return int(block["number"]), block_hash(block)

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            self.rpc("evm_mine")

    def mine_pending(self) -> None:
        """Mine until no transaction waits (a busy block may not hold them all)."""
        for _ in range(50):
            status = self.rpc("txpool_status")
            if int(status["pending"], 16) == 0:
                return
            self.rpc("evm_mine")
        raise RuntimeError("transactions still pending after 50 blocks")

    def snapshot(self) -> str:
        return str(self.rpc("evm_snapshot"))

    def revert(self, snapshot_id: str) -> None:
        assert self.rpc("evm_revert", snapshot_id) is True
        # anvil may keep reverted-away transactions pending: drop them (as titan_devnet does).
        self.rpc("anvil_dropAllTransactions")

    @contextlib.contextmanager
    def background_flow(self, pause: float = 0.05) -> Iterator[MarketFlow]:
        """The market flow in a thread (automine: a block per swap) while the block is open."""
        flow = MarketFlow(Web3(Web3.HTTPProvider(self.rpc_url)), self.manifest, seed=11)
        stop = threading.Event()

        def run() -> None:
            while not stop.is_set():
                flow.step()
                stop.wait(pause)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            yield flow
        finally:
            stop.set()
            thread.join(timeout=30)

    def flow_blocks(self, blocks: int) -> int:
        """Exactly `blocks` blocks of market flow (each step's swaps, then one mined block;
        what a busy block leaves waits for the next, or `mine_pending`)."""
        swaps = 0
        for _ in range(blocks):
            swaps += len(self.flow.step())
            self.mine()
        return swaps

    def v3_pools(self) -> list[dict[str, Any]]:
        return [p for p in self.manifest["pools"] if p["kind"] == "v3"]

    def mint_position(self, pool: dict[str, Any], width: int, amount: int = 10**15) -> Position:
        """A new V3 position of `width` spacings around the current tick."""
        spacing = pool["tick_spacing"]
        tick = self.chain.contract("UniswapV3Pool", pool["address"]).functions.slot0().call()[1]
        lower = (tick // spacing - width) * spacing
        upper = (tick // spacing + width) * spacing
        params = (pool["token0"], pool["token1"], pool["fee"], lower, upper, amount, amount,
                  0, 0, self.deployer, FAR_FUTURE)  # fmt: skip
        tx_hash = self.chain.send(self.npm, "mint", params, sender=self.deployer, gas=1_000_000)
        self.mine_pending()
        receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        assert receipt["status"] == 1, "mint reverted"
        (event,) = self.npm.events.IncreaseLiquidity().process_receipt(receipt, errors=DISCARD)
        assert event["args"]["liquidity"] > 0
        return Position(int(event["args"]["tokenId"]), lower, upper)

    def _send(self, contract: Any, fn: str, *args: Any, gas: int = 1_000_000) -> None:
        gas += next(_gas)
        tx_hash = self.chain.send(contract, fn, *args, sender=self.deployer, gas=gas)
        if self._batch is not None:
            self._batch.append((fn, tx_hash))
            return
        self.mine_pending()
        assert self.w3.eth.get_transaction_receipt(tx_hash)["status"] == 1, f"{fn} reverted"

    @contextlib.contextmanager
    def one_block(self) -> Iterator[None]:
        """The transactions sent in the block go into one block, mined at its end."""
        self.rpc("evm_setAutomine", False)
        self._batch = []
        try:
            yield
            self.rpc("evm_mine")
            blocks = set()
            for fn, tx_hash in self._batch:
                receipt = self.w3.eth.get_transaction_receipt(tx_hash)
                assert receipt["status"] == 1, f"{fn} reverted"
                blocks.add(receipt["blockNumber"])
            assert len(blocks) == 1, f"mined over blocks {sorted(blocks)}"
        finally:
            self._batch = None
            self.rpc("evm_setAutomine", True)

    @contextlib.contextmanager
    def roomy_blocks(self) -> Iterator[None]:
        """Blocks large enough to deploy a pool (the flow's blocks are kept small)."""
        limit = int(self.w3.eth.get_block("latest")["gasLimit"])
        self.rpc("evm_setBlockGasLimit", hex(30_000_000))
        try:
            yield
        finally:
            self.rpc("evm_setBlockGasLimit", hex(limit))

    def _raw(self, token: dict[str, Any], usd: float) -> int:
        return int(usd / token["usd"] * 10 ** token["decimals"])

    def new_v2_pair(self, dex: str) -> str:
        """A pair the manifest does not have, made on `dex` by its router (which calls the
        factory's createPair) with liquidity, then swapped; its address."""
        config = next(d for d in self.manifest["dexes"] if d["name"] == dex)
        have = {
            frozenset((p["token0"], p["token1"])) for p in self.manifest["pools"] if p["dex"] == dex
        }
        a, b = next(
            (a, b)
            for a, b in itertools.combinations(self.manifest["tokens"], 2)
            if frozenset((a["address"], b["address"])) not in have
        )
        router = self.chain.contract("UniswapV2Router02", config["router"])
        with self.roomy_blocks():
            self._send(router, "addLiquidity", a["address"], b["address"], self._raw(a, 50_000),
                       self._raw(b, 50_000), 0, 0, self.deployer, FAR_FUTURE,
                       gas=8_000_000)  # fmt: skip
        factory = self.chain.contract("UniswapV2Factory", config["factory"])
        pair = str(factory.functions.getPair(a["address"], b["address"]).call())
        path = [a["address"], b["address"]]
        self._send(router, "swapExactTokensForTokens", self._raw(a, 500), 0, path,
                   self.deployer, FAR_FUTURE)  # fmt: skip
        return pair

    def new_v3_pool(self, one_block: bool = False) -> str:
        """A V3 pool at a fee tier the manifest lacks for a pair: created and initialized
        through the position manager, a position minted, then swapped (all in one block when
        `one_block`); its address."""
        have = {(frozenset((p["token0"], p["token1"])), p["fee"]) for p in self.v3_pools()}
        a, b, fee = next(
            (a, b, fee)
            for a, b in itertools.combinations(self.manifest["tokens"], 2)
            for fee in V3_SPACING
            if (frozenset((a["address"], b["address"])), fee) not in have
        )
        t0, t1 = sorted((a, b), key=lambda t: int(t["address"], 16))
        price = t0["usd"] / t1["usd"] * 10 ** (t1["decimals"] - t0["decimals"])  # raw token1/token0
        spacing = V3_SPACING[fee]
        tick = math.floor(math.log(price) / math.log(1.0001))
        lower, upper = (tick // spacing - 20) * spacing, (tick // spacing + 20) * spacing
        params = (t0["address"], t1["address"], fee, lower, upper, self._raw(t0, 50_000),
                  self._raw(t1, 50_000), 0, 0, self.deployer, FAR_FUTURE)  # fmt: skip
        v3 = next(d for d in self.manifest["dexes"] if d["kind"] == "v3")
        router = self.chain.contract("SwapRouter", v3["router"])
        swap = (t0["address"], t1["address"], fee, self.deployer, FAR_FUTURE,
                self._raw(t0, 500), 0, 0)  # fmt: skip
        with self.roomy_blocks(), self.one_block() if one_block else contextlib.nullcontext():
            self._send(self.npm, "createAndInitializePoolIfNecessary", t0["address"],
                       t1["address"], fee, math.isqrt(int(price * 2**192)),
                       gas=8_000_000)  # fmt: skip
            self._send(self.npm, "mint", params)
            self._send(router, "exactInputSingle", swap)
        factory = self.chain.contract("UniswapV3Factory", self.manifest["contracts"]["v3_factory"])
        return str(factory.functions.getPool(t0["address"], t1["address"], fee).call())

    def burn_position(self, token_id: int, fraction: float = 1.0) -> None:
        liquidity = self.npm.functions.positions(token_id).call()[7]
        amount = liquidity * round(fraction * 1000) // 1000  # integers: floats round up
        params = (token_id, amount, 0, 0, FAR_FUTURE)
        self.npm.functions.decreaseLiquidity(params).call({"from": self.deployer})  # reasons
        tx_hash = self.chain.send(
            self.npm, "decreaseLiquidity", params, sender=self.deployer, gas=1_000_000
        )
        self.mine_pending()
        assert self.w3.eth.get_transaction_receipt(tx_hash)["status"] == 1, "burn reverted"
