"""The JSON-RPC reads the scanner makes itself: fee history, block base fees, eth_call."""

from __future__ import annotations

from typing import Any

import aiohttp
from web3 import AsyncHTTPProvider, AsyncWeb3

# The node did not answer (refused, dropped mid-call, timed out), as against answering with
# an error (a revert, a bad request): web3's HTTP provider is aiohttp.
_UNREACHABLE = (OSError, TimeoutError, aiohttp.ClientConnectionError)


def node_unreachable(exc: BaseException) -> bool:
    """True when `exc` says the node did not answer, so the same call may work later."""
    return isinstance(exc, _UNREACHABLE)


class ChainReader:
    """A thin async web3 wrapper with a time limit on every call."""

    def __init__(self, rpc_url: str, timeout: float) -> None:
        self.w3 = AsyncWeb3(AsyncHTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))

    async def close(self) -> None:
        await self.w3.provider.disconnect()

    async def next_base_fee(self) -> tuple[int, int, int]:
        """(block, base fee of the block after it, median priority fee of recent blocks)."""
        history: Any = await self.w3.eth.fee_history(5, "latest", [50.0])
        oldest = int(history["oldestBlock"])
        base_fees = [int(fee) for fee in history["baseFeePerGas"]]
        rewards = sorted(int(r[0]) for r in history.get("reward", []) if r)
        priority = rewards[len(rewards) // 2] if rewards else 0
        latest = oldest + len(base_fees) - 2
        return latest, base_fees[-1], priority

    async def block_number(self) -> int:
        return int(await self.w3.eth.block_number)

    async def base_fee(self, block_number: int) -> int | None:
        block: Any = await self.w3.eth.get_block(block_number)
        fee = block.get("baseFeePerGas")
        return None if fee is None else int(fee)

    async def call(self, tx: dict[str, Any], block_number: int) -> bytes:
        result: Any = await self.w3.eth.call(tx, block_identifier=block_number)  # type: ignore[arg-type]
        return bytes(result)
