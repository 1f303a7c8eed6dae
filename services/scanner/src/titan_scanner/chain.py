"""The JSON-RPC reads the scanner makes itself: fee history, block base fees, eth_call.

Reads go through `titan_common.jsonrpc` on one kept-alive connection; `w3` (web3.py) is made
only for paper trading, which signs and sends transactions."""

from __future__ import annotations

from typing import Any

import aiohttp
from web3 import AsyncHTTPProvider, AsyncWeb3

from titan_common.jsonrpc import JsonRpcClient, RpcUnavailable, to_int

# The node did not answer (refused, dropped mid-call, timed out), as against answering with
# an error (a revert, a bad request). web3's HTTP provider (paper trading) raises aiohttp's.
_UNREACHABLE = (RpcUnavailable, OSError, TimeoutError, aiohttp.ClientConnectionError)


def node_unreachable(exc: BaseException) -> bool:
    """True when `exc` says the node did not answer, so the same call may work later."""
    return isinstance(exc, _UNREACHABLE)


class ChainReader:
    """The chain's answers the scanner needs, each call within `timeout` seconds."""

    def __init__(self, rpc_url: str, timeout: float) -> None:
        self.rpc = JsonRpcClient(rpc_url, timeout)
        self._url, self._timeout = rpc_url, timeout
        self._w3: AsyncWeb3[Any] | None = None

    @property
    def w3(self) -> AsyncWeb3[Any]:
        """web3.py on the same node, for sending transactions."""
        if self._w3 is None:
            provider = AsyncHTTPProvider(self._url, request_kwargs={"timeout": self._timeout})
            self._w3 = AsyncWeb3(provider)
        return self._w3

    async def close(self) -> None:
        await self.rpc.aclose()
        if self._w3 is not None:
            await self._w3.provider.disconnect()

    async def next_base_fee(self) -> tuple[int, int, int]:
        """(block, base fee of the block after it, median priority fee of recent blocks)."""
        history = await self.rpc.request("eth_feeHistory", ["0x5", "latest", [50.0]])
        oldest = to_int(history["oldestBlock"])
        base_fees = [to_int(fee) for fee in history["baseFeePerGas"]]
        rewards = sorted(to_int(r[0]) for r in history.get("reward") or [] if r)
        priority = rewards[len(rewards) // 2] if rewards else 0
        latest = oldest + len(base_fees) - 2
        return latest, base_fees[-1], priority

    async def block_number(self) -> int:
        return to_int(await self.rpc.request("eth_blockNumber", []))

    async def base_fee(self, block_number: int) -> int | None:
        block = await self.rpc.request("eth_getBlockByNumber", [hex(block_number), False])
        fee = None if block is None else block.get("baseFeePerGas")
        return None if fee is None else to_int(fee)

    async def call(self, tx: dict[str, Any], block_number: int) -> bytes:
        result = await self.rpc.request("eth_call", [tx, hex(block_number)])
        return bytes.fromhex(str(result).removeprefix("0x"))
