"""A thin layer over web3 for the devnet's own transactions: unlocked anvil accounts, no gas
estimation round trips, and receipts checked in batches."""

from __future__ import annotations

from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract

from titan_devnet.artifacts import load

TX_GAS = 10_000_000


class Chain:
    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.accounts: list[ChecksumAddress] = list(w3.eth.accounts)
        self._pending: list[bytes] = []

    def contract(self, name: str, address: str) -> Contract:
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=load(name).abi)

    def deploy(self, name: str, *args: Any, sender: str | None = None) -> Contract:
        artifact = load(name)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        tx_hash = factory.constructor(*args).transact(
            {"from": sender or self.accounts[0], "gas": TX_GAS}
        )
        receipt = self.w3.eth.wait_for_transaction_receipt(Web3.to_hex(tx_hash))
        if receipt["status"] != 1 or receipt["contractAddress"] is None:
            raise RuntimeError(f"deploying {name} reverted")
        return self.contract(name, receipt["contractAddress"])

    def send(
        self,
        contract: Contract,
        fn: str,
        *args: Any,
        sender: str,
        value: int = 0,
        gas: int = TX_GAS,
    ) -> bytes:
        """Send without waiting; `settle()` checks every receipt sent so far."""
        data = contract.encode_abi(fn, args=list(args))
        tx: dict[str, Any] = {"from": sender, "to": contract.address, "data": data, "gas": gas}
        if value:
            tx["value"] = value
        tx_hash = self.w3.eth.send_transaction(tx)  # type: ignore[arg-type]
        self._pending.append(bytes(tx_hash))
        return bytes(tx_hash)

    def settle(self) -> None:
        pending, self._pending = self._pending, []
        for tx_hash in pending:
            receipt = self.w3.eth.wait_for_transaction_receipt(Web3.to_hex(tx_hash))
            if receipt["status"] != 1:
                raise RuntimeError(f"transaction {tx_hash.hex()} reverted")

    def rpc(self, method: str, *params: Any) -> Any:
        response = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        if "error" in response:
            raise RuntimeError(f"{method}: {response['error']}")
        return response.get("result")
