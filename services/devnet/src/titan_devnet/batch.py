"""Many deploy transactions to a block: automine off, explicit nonces, JSON-RPC batch requests,
one `evm_mine` per chunk, every receipt checked.

The transactions are the same real calls through the real contracts as when sent one at a
time (so the factories' PairCreated/PoolCreated logs and the contracts' state are the same in
kind); only the blocks they land in differ. Within a chunk, one sender's transactions execute in
nonce order; transactions of different senders must not depend on each other within a chunk
(`flush()` between them when they do).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from web3.contract import Contract

from titan_devnet.artifacts import load
from titan_devnet.chain import TX_GAS, Chain

# While deploying, a block holds a whole chunk (a V3 pool's creation alone reserves 10M gas).
BATCH_BLOCK_GAS_LIMIT = 2**40
# Paid as a cap, never in full: with blocks far below their gas target the base fee only falls,
# so every transaction stays includable whatever block it lands in.
MAX_FEE_PER_GAS = 10**12
RPC_BATCH = 500  # JSON-RPC requests per HTTP request

Receipt = dict[str, Any]


class BatchError(RuntimeError):
    """A deploy transaction that was rejected, reverted or never mined."""


@dataclass
class _Tx:
    params: dict[str, str]
    label: str
    on_receipt: Callable[[Receipt], None] | None


class TxBatch:
    """Queue transactions, then `flush()`: send them all, mine, check every receipt.

    `flush()` mines the queue `chunk` transactions to a block; `on_mined(n)` is told after each
    block (for a progress bar). Use as a context manager: automine is off inside, back on after,
    and what is still queued is flushed on the way out.
    """

    def __init__(
        self,
        chain: Chain,
        rpc_url: str,
        chunk: int = 2000,
        on_mined: Callable[[int], None] | None = None,
    ) -> None:
        self.chain = chain
        self.chunk = chunk
        self.on_mined = on_mined
        self._http = httpx.Client(base_url=rpc_url, timeout=300)
        self._nonces: dict[str, int] = {}
        self._queue: list[_Tx] = []
        self._ids = 0
        self.sent = 0
        self.blocks = 0

    @property
    def queued(self) -> int:
        return len(self._queue)

    def __enter__(self) -> TxBatch:
        self.chain.rpc("evm_setAutomine", False)
        self._gas_limit_before = int(self.chain.w3.eth.get_block("latest")["gasLimit"])
        self.chain.rpc("evm_setBlockGasLimit", hex(BATCH_BLOCK_GAS_LIMIT))
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self.flush()
        finally:
            self.chain.rpc("evm_setBlockGasLimit", hex(self._gas_limit_before))
            self.chain.rpc("evm_setAutomine", True)
            self._http.close()

    def send(
        self,
        contract: Contract,
        fn: str,
        *args: Any,
        sender: str,
        value: int = 0,
        gas: int = TX_GAS,
        on_receipt: Callable[[Receipt], None] | None = None,
    ) -> None:
        data = contract.encode_abi(fn, args=list(args))
        self._queue_tx(sender, contract.address, data, value, gas, fn, on_receipt)

    def deploy(
        self,
        name: str,
        *args: Any,
        sender: str,
        on_address: Callable[[str], None],
        gas: int = TX_GAS,
    ) -> None:
        """Deploy `name`; `on_address(address)` once it is mined."""
        artifact = load(name)
        factory = self.chain.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        data = factory.constructor(*args).data_in_transaction

        def created(receipt: Receipt) -> None:
            if receipt.get("contractAddress") is None:
                raise BatchError(f"deploying {name} created no contract")
            on_address(self.chain.w3.to_checksum_address(receipt["contractAddress"]))

        self._queue_tx(sender, None, data, 0, gas, f"deploy {name}", created)

    def flush(self) -> None:
        """Send what is queued, mine until every transaction is in a block, check each receipt."""
        while self._queue:
            chunk, self._queue = self._queue[: self.chunk], self._queue[self.chunk :]
            self._mine_chunk(chunk)

    def _queue_tx(
        self,
        sender: str,
        to: str | None,
        data: str,
        value: int,
        gas: int,
        label: str,
        on_receipt: Callable[[Receipt], None] | None,
    ) -> None:
        if sender not in self._nonces:
            self._nonces[sender] = int(self.chain.w3.eth.get_transaction_count(sender, "pending"))  # type: ignore[arg-type]
        params = {
            "from": sender,
            "data": data,
            "gas": hex(gas),
            "nonce": hex(self._nonces[sender]),
            "maxFeePerGas": hex(MAX_FEE_PER_GAS),
            "maxPriorityFeePerGas": "0x0",
        }
        if to is not None:
            params["to"] = to
        if value:
            params["value"] = hex(value)
        self._nonces[sender] += 1
        self._queue.append(_Tx(params, label, on_receipt))

    def _mine_chunk(self, chunk: list[_Tx]) -> None:
        hashes = self._call_many("eth_sendTransaction", [[tx.params] for tx in chunk], chunk)
        self.sent += len(chunk)
        receipts: list[Receipt | None] = [None] * len(chunk)
        waiting = list(range(len(chunk)))
        # One block takes the whole chunk; a few more are allowed for a pool that holds back.
        for _ in range(4):
            self.chain.rpc("evm_mine")
            self.blocks += 1
            found = self._call_many(
                "eth_getTransactionReceipt", [[hashes[i]] for i in waiting], None
            )
            still = []
            for i, receipt in zip(waiting, found, strict=True):
                if receipt is None:
                    still.append(i)
                else:
                    receipts[i] = receipt
            waiting = still
            if not waiting:
                break
        if waiting:
            raise BatchError(
                f"{len(waiting)} transactions never mined, first: {chunk[waiting[0]].label}"
            )
        for tx, receipt in zip(chunk, receipts, strict=True):
            assert receipt is not None
            if int(receipt["status"], 16) != 1:
                raise BatchError(f"{tx.label} reverted ({receipt['transactionHash']})")
            if tx.on_receipt is not None:
                tx.on_receipt(receipt)
        if self.on_mined is not None:
            self.on_mined(len(chunk))

    def _call_many(self, method: str, params: list[list[Any]], txs: list[_Tx] | None) -> list[Any]:
        """One JSON-RPC call per params, sent in batches; answers in the order asked."""
        results: list[Any] = []
        for start in range(0, len(params), RPC_BATCH):
            requests = []
            for p in params[start : start + RPC_BATCH]:
                self._ids += 1
                requests.append({"jsonrpc": "2.0", "id": self._ids, "method": method, "params": p})
            answer = self._http.post(
                "", content=orjson.dumps(requests), headers={"Content-Type": "application/json"}
            )
            answer.raise_for_status()
            by_id = {item["id"]: item for item in orjson.loads(answer.content)}
            for offset, request in enumerate(requests):
                item = by_id[request["id"]]
                if "error" in item:
                    what = txs[start + offset].label if txs is not None else method
                    raise BatchError(f"{what}: {item['error']}")
                results.append(item["result"])
        return results
