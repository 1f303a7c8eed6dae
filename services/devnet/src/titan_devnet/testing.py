"""The pytest plugin every Titan test suite shares: one real devnet per test session.

The root conftest loads it. `devnet` starts anvil lazily on a free port with the `default`
scenario (from the snapshot cache when present), automining, and always stops it at the end.

Known anvil 1.7.1 quirks after `evm_revert`: a transaction identical to one sent before the
revert may never get a receipt, and a reverted-away transaction may stay pending. So `revert`
drops pending transactions, and the flow and `big_swap` give every transaction a distinct gas
limit.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from titan_devnet import devnet as devnet_module
from titan_devnet.anvil import free_port
from titan_devnet.chain import Chain
from titan_devnet.flow import FAR_FUTURE, MarketFlow

_gas_offsets = itertools.count(1)


@dataclass
class Devnet:
    """A running devnet and the handles tests need."""

    running: devnet_module.RunningDevnet
    chain: Chain = field(init=False)
    _deployed: str = field(init=False)  # a snapshot of the market as deployed

    def __post_init__(self) -> None:
        self.chain = Chain(self.running.w3)
        self._deployed = self.snapshot()

    @property
    def rpc_url(self) -> str:
        return self.running.anvil.rpc_url

    @property
    def ws_url(self) -> str:
        return self.running.anvil.ws_url

    @property
    def port(self) -> int:
        return self.running.anvil.port

    @property
    def manifest(self) -> dict[str, Any]:
        return self.running.manifest

    @property
    def manifest_path(self) -> Path:
        return self.running.manifest_path

    @property
    def w3(self) -> Web3:
        return self.running.w3

    def rpc(self, method: str, *params: Any) -> Any:
        return self.chain.rpc(method, *params)

    def mine(self, blocks: int = 1) -> int:
        self.rpc("anvil_mine", hex(blocks))
        return self.w3.eth.block_number

    def snapshot(self) -> str:
        snapshot_id: str = self.rpc("evm_snapshot")
        return snapshot_id

    def revert(self, snapshot_id: str) -> None:
        if not self.rpc("evm_revert", snapshot_id):
            raise RuntimeError(f"evm_revert {snapshot_id} failed")
        self.rpc("anvil_dropAllTransactions")

    def reset(self) -> None:
        """Back to the market as deployed, for tests that need prices near the fair ones: earlier
        tests' flows and big swaps leave gaps that nothing arbitrages away.
        The chain's head goes back too; start services after this, not before."""
        self.revert(self._deployed)
        self._deployed = self.snapshot()  # a revert consumes its snapshot

    def pool(self, address: str) -> dict[str, Any]:
        return next(p for p in self.manifest["pools"] if p["address"].lower() == address.lower())

    def pools(self, **match: Any) -> list[dict[str, Any]]:
        return [p for p in self.manifest["pools"] if all(p.get(k) == v for k, v in match.items())]

    def token(self, symbol: str) -> dict[str, Any]:
        return next(t for t in self.manifest["tokens"] if t["symbol"] == symbol)

    def run_flow(self, steps: int, seed: int = 1) -> MarketFlow:
        """Run `steps` blocks' worth of the market flow now (automine: one block per swap)."""
        flow = MarketFlow(self.w3, self.manifest, seed=seed)
        for _ in range(steps):
            flow.step()
        return flow

    @contextmanager
    def flow(self, seed: int = 1, pause: float = 0.2) -> Iterator[MarketFlow]:
        """Run the market flow in the background while the block is open, then stop it."""
        market = MarketFlow(Web3(Web3.HTTPProvider(self.rpc_url)), self.manifest, seed=seed)
        stop = threading.Event()
        thread = threading.Thread(target=_paced, args=(market, stop, pause), daemon=True)
        thread.start()
        try:
            yield market
        finally:
            stop.set()
            thread.join(timeout=10)

    def big_swap(self, pool_address: str, usd: float, zero_for_one: bool = True) -> dict[str, Any]:
        """One large swap through the pool's DEX router, to create a divergence on purpose."""
        pool = self.pool(pool_address)
        token_in, token_out = (
            (pool["token0"], pool["token1"]) if zero_for_one else (pool["token1"], pool["token0"])
        )
        spec = next(t for t in self.manifest["tokens"] if t["address"] == token_in)
        amount = int(usd / spec["usd"] * 10 ** spec["decimals"])
        dex = next(d for d in self.manifest["dexes"] if d["name"] == pool["dex"])
        trader = self.manifest["deployer"]
        if pool["kind"] == "v2":
            router = self.chain.contract("UniswapV2Router02", dex["router"])
            args: list[Any] = [amount, 0, [token_in, token_out], trader, FAR_FUTURE]
            data = router.encode_abi("swapExactTokensForTokens", args=args)
        else:
            router = self.chain.contract("SwapRouter", dex["router"])
            params = (token_in, token_out, pool["fee"], trader, FAR_FUTURE, amount, 0, 0)
            data = router.encode_abi("exactInputSingle", args=[params])
        gas = 900_000 + next(_gas_offsets)
        tx_hash = self.w3.eth.send_transaction(
            {"from": trader, "to": router.address, "data": data, "gas": gas}
        )
        receipt = dict(self.w3.eth.wait_for_transaction_receipt(tx_hash))
        if receipt["status"] != 1:
            raise RuntimeError(f"big swap on {pool_address} reverted")
        return receipt


def _paced(market: MarketFlow, stop: threading.Event, pause: float) -> None:
    while not stop.is_set():
        market.step()
        stop.wait(pause)


@pytest.fixture(scope="session")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    manifest_path = tmp_path_factory.mktemp("devnet") / "manifest.json"
    running = devnet_module.start(free_port(), "default", seed=1, manifest_path=manifest_path)
    try:
        yield Devnet(running)
    finally:
        running.stop()
