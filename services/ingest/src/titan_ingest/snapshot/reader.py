"""Read every pool's state at one block: V2 reserves; V3 price, tick, liquidity, fee, tick
spacing and the initialized ticks (tick bitmap words, then `ticks(i)` for each set bit).

Every `eth_call` names the block, so the snapshot is one consistent cut of the chain. Calls
go in JSON-RPC batches, three rounds in all whatever the number of pools.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import Any

import structlog

from titan_ingest.chain import abi
from titan_ingest.chain.config import PoolMeta
from titan_ingest.chain.rpc import Call, RpcClient
from titan_ingest.snapshot.progress import SnapshotProgress
from titan_ingest.state.pools import SNAPSHOT_LOG_INDEX, PoolEntry, TickInfo

_log = structlog.get_logger("titan_ingest.snapshot")

MIN_TICK = -887272
MAX_TICK = 887272


def word_range(tick_spacing: int) -> range:
    """The tick bitmap words a pool can use (TickBitmap.position of the compressed ticks)."""
    return range((MIN_TICK // tick_spacing) >> 8, ((MAX_TICK // tick_spacing) >> 8) + 1)


def _word(result: str, index: int = 0) -> int:
    start = 2 + 64 * index
    chunk = result[start : start + 64]
    if len(chunk) != 64:
        raise ValueError("short eth_call result")
    return int(chunk, 16)


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _signed_word(result: str, index: int, bits: int) -> int:
    return _signed(_word(result, index), bits)


class SnapshotReader:
    def __init__(self, rpc: RpcClient, progress: bool = False) -> None:
        self.rpc = rpc
        self.progress = progress
        self.failed: dict[str, str] = {}  # pool -> why it could not be read
        self._bar: SnapshotProgress | None = None

    async def read(self, metas: Sequence[PoolMeta], block: int, block_hash: str) -> list[PoolEntry]:
        """Every readable pool's state at the end of `block`; the others land in `failed`."""
        tag = hex(block)
        bar: AbstractContextManager[Any] = (
            SnapshotProgress(len(metas)) if self.progress else nullcontext()
        )
        with bar as progress:
            self._bar = progress
            entries = await self._read_state(metas, tag, block, block_hash)
            v3 = [e for e in entries if e.meta.kind == "v3"]
            await self._read_ticks(v3, tag)
            self._bar = None
        _log.info(
            "ingest.snapshot.read", pools=len(entries), block_number=block, failed=len(self.failed)
        )
        return entries

    async def _batch(self, calls: list[Call]) -> list[Any]:
        if self._bar is None:
            return await self.rpc.batch(calls)
        self._bar.expect(len(calls))
        return await self.rpc.batch(calls, self._bar.advance)

    def _call(self, pool: str, data: str, tag: str) -> Call:
        return ("eth_call", [{"to": pool, "data": data}, tag])

    async def _read_state(
        self,
        metas: Sequence[PoolMeta],
        tag: str,
        block: int,
        block_hash: str,
    ) -> list[PoolEntry]:
        v2_calls = (abi.call_data(abi.GET_RESERVES),)
        v3_calls = tuple(
            abi.call_data(s) for s in (abi.SLOT0, abi.LIQUIDITY, abi.FEE, abi.TICK_SPACING)
        )
        calls: list[Call] = []
        for meta in metas:
            for data in v2_calls if meta.kind == "v2" else v3_calls:
                calls.append(self._call(meta.address, data, tag))
        results = await self._batch(calls)
        entries: list[PoolEntry] = []
        position = 0
        for meta in metas:
            count = len(v2_calls) if meta.kind == "v2" else len(v3_calls)
            answers = results[position : position + count]
            position += count
            try:
                entries.append(_entry(meta, answers, block, block_hash))
            except (ValueError, TypeError) as exc:
                self.failed[meta.address] = str(exc)
                _log.warning("ingest.snapshot.pool_failed", pool=meta.address, error=str(exc))
        return entries

    async def _read_ticks(self, pools: list[PoolEntry], tag: str) -> None:
        word_calls: list[Call] = []
        owners: list[tuple[PoolEntry, int]] = []
        for entry in pools:
            for word in word_range(entry.meta.tick_spacing):
                data = abi.call_data(abi.TICK_BITMAP, ("int16",), (word,))
                word_calls.append(self._call(entry.meta.address, data, tag))
                owners.append((entry, word))
        words = await self._batch(word_calls)
        tick_calls: list[Call] = []
        tick_owners: list[tuple[PoolEntry, int]] = []
        for (entry, word), result in zip(owners, words, strict=True):
            bitmap = _checked_word(result)
            while bitmap:
                bit = (bitmap & -bitmap).bit_length() - 1
                bitmap &= bitmap - 1
                index = (word * 256 + bit) * entry.meta.tick_spacing
                data = abi.call_data(abi.TICKS, ("int24",), (index,))
                tick_calls.append(self._call(entry.meta.address, data, tag))
                tick_owners.append((entry, index))
        ticks = await self._batch(tick_calls)
        for (entry, index), result in zip(tick_owners, ticks, strict=True):
            text = _checked(result)
            gross, net = _word(text, 0), _signed_word(text, 1, 128)
            entry.ticks[index] = TickInfo(gross, net)


def _checked(result: Any) -> str:
    if isinstance(result, Exception):
        raise result
    if not isinstance(result, str) or not result.startswith("0x"):
        raise ValueError("eth_call answered no data")
    return result


def _checked_word(result: Any) -> int:
    return _word(_checked(result))


def _entry(meta: PoolMeta, answers: list[Any], block: int, block_hash: str) -> PoolEntry:
    texts = [_checked(a) for a in answers]
    if meta.kind == "v2":
        return PoolEntry(
            meta,
            block,
            SNAPSHOT_LOG_INDEX,
            block_hash,
            reserve0=_word(texts[0], 0),
            reserve1=_word(texts[0], 1),
        )
    slot0, liquidity, fee, spacing = texts
    meta = replace(meta, fee=_word(fee), tick_spacing=_signed_word(spacing, 0, 24))
    if meta.tick_spacing <= 0:
        raise ValueError("tickSpacing must be positive")
    return PoolEntry(
        meta,
        block,
        SNAPSHOT_LOG_INDEX,
        block_hash,
        sqrt_price_x96=_word(slot0, 0),
        tick=_signed_word(slot0, 1, 24),
        liquidity=_word(liquidity),
    )
