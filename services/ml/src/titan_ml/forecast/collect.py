"""Fee history from a connected chain: `eth_feeHistory` over JSON-RPC, live or into a file.

`FeeHistorySource` serves forecasts (the last blocks, kept up to the block asked about, or
for a short TTL); `collect_to_file` gathers many blocks, 1024 per call as nodes allow, into a
CSV that training reads.
"""

from __future__ import annotations

import asyncio
import csv
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from titan_common.jsonrpc import JsonRpcClient, RpcUnavailable
from titan_ml.forecast.history import FeeHistory

REWARD_PERCENTILES = (50.0, 90.0)
MAX_BLOCKS_PER_CALL = 1024


async def fee_history(rpc: JsonRpcClient, blocks: int, newest: str | int = "latest") -> FeeHistory:
    """`blocks` blocks of `eth_feeHistory` up to `newest`; `ChainError` when the node fails."""
    newest_param = newest if isinstance(newest, str) else hex(newest)
    result = await rpc.request(
        "eth_feeHistory", [hex(blocks), newest_param, list(REWARD_PERCENTILES)]
    )
    try:
        return parse_fee_history(result)
    except (KeyError, TypeError, ValueError) as exc:
        raise RpcUnavailable(f"eth_feeHistory: a malformed answer ({exc})") from exc


def parse_fee_history(result: dict[str, Any]) -> FeeHistory:
    """An `eth_feeHistory` result (hex quantities) as a FeeHistory."""
    base = np.array([float(int(v, 16)) for v in result["baseFeePerGas"]])
    ratio = np.array([float(v) for v in result["gasUsedRatio"]])
    reward = None
    if result.get("reward"):
        reward = np.array([[float(int(v, 16)) for v in row] for row in result["reward"]])
    return FeeHistory(
        int(result["oldestBlock"], 16),
        base,
        ratio,
        None,
        reward,
        REWARD_PERCENTILES if reward is not None else (),
    )


class FeeHistorySource:
    """The chain's recent fee history for forecasts.

    Without a block number, asked again only after `ttl` seconds. With one (the scanner's: the
    block it is pricing), the history reaches that block, whatever the TTL: a forecast for the
    block after it must not come from blocks before it. Then only the blocks since the cached
    history's last are asked for, with `REORG_OVERLAP` it already has (a shallow reorg
    rewrites them), so a refresh per block stays one small call."""

    REORG_OVERLAP = 3

    def __init__(
        self,
        url: str,
        blocks: int,
        ttl: float,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url, self.blocks, self.ttl = url, blocks, ttl
        self._rpc = JsonRpcClient(url, timeout, transport)
        self._cached: tuple[float, FeeHistory] | None = None
        self._refreshing = asyncio.Lock()  # concurrent forecasts share one call

    def _usable(self, newest_block: int | None) -> FeeHistory | None:
        if self._cached is None:
            return None
        at, history = self._cached
        if newest_block is None:
            return history if time.monotonic() - at < self.ttl else None
        return history if history.last_block >= newest_block else None

    async def latest(self, newest_block: int | None = None) -> FeeHistory:
        """The last `blocks` blocks, reaching `newest_block` when it is given."""
        history = self._usable(newest_block)
        if history is not None:
            return history
        async with self._refreshing:
            history = self._usable(newest_block)
            if history is None:
                history = await self._refresh(newest_block)
                self._cached = (time.monotonic(), history)
            return history

    async def _refresh(self, newest_block: int | None) -> FeeHistory:
        cached = None if self._cached is None else self._cached[1]
        if cached is None or newest_block is None:
            return await fee_history(self._rpc, self.blocks)
        count = min(self.blocks, max(1, newest_block - cached.last_block) + self.REORG_OVERLAP)
        newer = await fee_history(self._rpc, count)
        if newer.oldest_block > cached.last_block + 1:  # the head ran further: a gap
            return await fee_history(self._rpc, self.blocks)
        return cached.extended(newer).tail(self.blocks)

    async def aclose(self) -> None:
        await self._rpc.aclose()


async def collect_to_file(
    url: str, blocks: int, out: Path, progress: bool = False, rpc_timeout: float = 10.0
) -> int:
    """The last `blocks` blocks' fee history into `out` (CSV); returns the blocks written."""
    rpc = JsonRpcClient(url, rpc_timeout)
    try:
        head = await fee_history(rpc, 1)
        newest = head.last_block
        oldest = max(0, newest - blocks + 1)
        parts: list[FeeHistory] = []
        bar = _bar(progress, newest - oldest + 1)
        end = newest
        while end >= oldest:
            count = min(MAX_BLOCKS_PER_CALL, end - oldest + 1)
            parts.append(await fee_history(rpc, count, end))
            end -= count
            if bar is not None:
                bar.update(count)
        if bar is not None:
            bar.close()
    finally:
        await rpc.aclose()
    parts.reverse()
    _write(out, parts)
    return sum(p.blocks for p in parts)


def _bar(enabled: bool, total: int) -> _RichBar | None:
    return _RichBar(total) if enabled else None


class _RichBar:
    def __init__(self, total: int) -> None:
        from rich.progress import Progress

        self._progress = Progress()
        self._progress.start()
        self._task = self._progress.add_task("eth_feeHistory", total=total)

    def update(self, n: int) -> None:
        self._progress.advance(self._task, n)

    def close(self) -> None:
        self._progress.stop()


def _write(out: Path, parts: list[FeeHistory]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    percentiles = parts[0].reward_percentiles
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "block_number",
                "base_fee_wei",
                "gas_used_ratio",
                *(f"reward_p{p:g}" for p in percentiles),
            ]
        )
        for part in parts:
            for i in range(part.blocks):
                rewards = [] if part.reward is None else [int(v) for v in part.reward[i]]
                writer.writerow(
                    [
                        part.oldest_block + i,
                        int(part.base_fee[i]),
                        repr(float(part.gas_used_ratio[i])),
                        *rewards,
                    ]
                )
        last = parts[-1]
        writer.writerow(
            [last.last_block + 1, int(last.base_fee[-1]), "", *("" for _ in percentiles)]
        )
