"""A thin layer over web3 for the devnet's own transactions: unlocked anvil accounts and no gas
estimation round trips. Many transactions at once go through `batch.TxBatch`."""

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

    def contract(self, name: str, address: str) -> Contract:
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=load(name).abi)

    def send(
        self,
        contract: Contract,
        fn: str,
        *args: Any,
        sender: str,
        value: int = 0,
        gas: int = TX_GAS,
    ) -> bytes:
        """Send without waiting for the receipt; returns the transaction hash."""
        data = contract.encode_abi(fn, args=list(args))
        tx: dict[str, Any] = {"from": sender, "to": contract.address, "data": data, "gas": gas}
        if value:
            tx["value"] = value
        return bytes(self.w3.eth.send_transaction(tx))  # type: ignore[arg-type]

    def rpc(self, method: str, *params: Any) -> Any:
        response = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        if "error" in response:
            raise RuntimeError(f"{method}: {response['error']}")
        return response.get("result")
