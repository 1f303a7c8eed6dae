"""The fast snapshot: a read-only helper contract run through `eth_call` with a code override.

`PoolSnapshotReader` (services/ingest/contracts/, compiled into helper.json) calls the pools'
own view functions at the block of the call: V2 reserves for hundreds of pairs per call, and a
V3 pool's slot0, liquidity, fee, tick spacing and every initialized tick (tick bitmap words,
then `ticks(i)`) in one call per chunk of words. The answer is the per-function batches' to
the wei; a node that refuses code overrides, or a pool the helper cannot read, falls back to
those batches (`SnapshotReader`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import structlog
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from titan_ingest.chain.config import PoolMeta
from titan_ingest.chain.rpc import Call, RpcClient, RpcError
from titan_ingest.snapshot.progress import SnapshotProgress
from titan_ingest.snapshot.reader import SnapshotReader, word_range
from titan_ingest.state.pools import SNAPSHOT_LOG_INDEX, PoolEntry, TickInfo

_log = structlog.get_logger("titan_ingest.snapshot")

_ARTIFACT = json.loads((Path(__file__).parent / "helper.json").read_text())
RUNTIME: str = _ARTIFACT["runtime"]
HELPER_ADDRESS = "0x00000000000000000000000000000000007174a1"  # any unused address
_V2 = keccak(text="v2Reserves(address[])")[:4]
_V3 = keccak(text="v3State(address,int256,int256)")[:4]
_V3_TYPES = ("uint160", "int24", "uint128", "uint24", "int24", "int24[]", "uint128[]", "int128[]")

V2_CHUNK = 400  # pairs per call
WORD_CHUNK = 512  # bitmap words per call: ~1.5M gas, plus ~11k per initialized tick
# Calls per JSON-RPC request: each carries the helper's code (~3 KB), and nodes cap bodies.
HELPER_BATCH = 32
# Above small devnet block gas limits; at geth's default RPC gas cap (50M).
CALL_GAS = hex(50_000_000)


class HelperSnapshotReader:
    def __init__(self, rpc: RpcClient, progress: bool = False) -> None:
        self.rpc = rpc
        self.progress = progress
        self.failed: dict[str, str] = {}

    def _call(self, data: bytes, tag: str) -> Call:
        return (
            "eth_call",
            [
                {"to": HELPER_ADDRESS, "data": "0x" + data.hex(), "gas": CALL_GAS},
                tag,
                {HELPER_ADDRESS: {"code": RUNTIME}},
            ],
        )

    async def read(self, metas: Sequence[PoolMeta], block: int, block_hash: str) -> list[PoolEntry]:
        tag = hex(block)
        v2 = [m for m in metas if m.kind == "v2"]
        v3 = [m for m in metas if m.kind == "v3"]
        calls: list[Call] = []
        plan: list[tuple[str, Any]] = []
        for i in range(0, len(v2), V2_CHUNK):
            chunk = v2[i : i + V2_CHUNK]
            calls.append(
                self._call(_V2 + abi_encode(("address[]",), ([m.address for m in chunk],)), tag)
            )
            plan.append(("v2", chunk))
        for meta in v3:
            # The tick spacing is read by the call itself; the config's value (or 1, the
            # widest range) only sizes the words to scan.
            words = word_range(meta.tick_spacing or 1)
            for lo in range(words.start, words.stop, WORD_CHUNK):
                hi = min(lo + WORD_CHUNK, words.stop) - 1
                data = _V3 + abi_encode(("address", "int256", "int256"), (meta.address, lo, hi))
                calls.append(self._call(data, tag))
                plan.append(("v3", meta))
        if self.progress:
            with SnapshotProgress(len(metas)) as bar:
                bar.expect(len(calls))
                results = await self.rpc.batch(calls, bar.advance, size=HELPER_BATCH)
        else:
            results = await self.rpc.batch(calls, size=HELPER_BATCH)
        entries: dict[str, PoolEntry] = {}
        retry: dict[str, PoolMeta] = {}
        for (kind, item), result in zip(plan, results, strict=True):
            if isinstance(result, Exception) or not isinstance(result, str) or result == "0x":
                retry.update((m.address, m) for m in (item if kind == "v2" else [item]))
                continue
            raw = bytes.fromhex(result[2:])
            if kind == "v2":
                self._v2(item, raw, block, block_hash, entries)
            else:
                self._v3(item, raw, block, block_hash, entries)
        if retry:
            await self._fallback(list(retry.values()), block, block_hash, entries)
        _log.info(
            "ingest.snapshot.read",
            pools=len(entries),
            block_number=block,
            method="helper",
            fallback=len(retry),
        )
        return [entries[m.address] for m in metas if m.address in entries]

    def _v2(
        self,
        chunk: list[PoolMeta],
        raw: bytes,
        block: int,
        block_hash: str,
        entries: dict[str, PoolEntry],
    ) -> None:
        (values,) = abi_decode(("uint256[]",), raw)
        for i, meta in enumerate(chunk):
            entries[meta.address] = PoolEntry(
                meta,
                block,
                SNAPSHOT_LOG_INDEX,
                block_hash,
                reserve0=values[2 * i],
                reserve1=values[2 * i + 1],
            )

    def _v3(
        self,
        meta: PoolMeta,
        raw: bytes,
        block: int,
        block_hash: str,
        entries: dict[str, PoolEntry],
    ) -> None:
        price, tick, liquidity, fee, spacing, indexes, gross, net = abi_decode(_V3_TYPES, raw)
        entry = entries.get(meta.address)
        if entry is None:
            entry = entries[meta.address] = PoolEntry(
                replace(meta, fee=fee, tick_spacing=spacing),
                block,
                SNAPSHOT_LOG_INDEX,
                block_hash,
                sqrt_price_x96=price,
                tick=tick,
                liquidity=liquidity,
            )
        for index, g, n in zip(indexes, gross, net, strict=True):
            entry.ticks[index] = TickInfo(g, n)

    async def _fallback(
        self, metas: list[PoolMeta], block: int, block_hash: str, entries: dict[str, PoolEntry]
    ) -> None:
        for meta in metas:
            entries.pop(meta.address, None)  # a V3 pool whose chunks half failed
        reader = SnapshotReader(self.rpc, self.progress)
        for entry in await reader.read(metas, block, block_hash):
            entries[entry.meta.address] = entry
        self.failed.update(reader.failed)


async def helper_supported(rpc: RpcClient) -> bool:
    """Whether the node runs `eth_call` with a code override (a call on no pools)."""
    data = _V2 + abi_encode(("address[]",), ([],))
    try:
        result = await rpc.request(
            "eth_call",
            [
                {"to": HELPER_ADDRESS, "data": "0x" + data.hex()},
                "latest",
                {HELPER_ADDRESS: {"code": RUNTIME}},
            ],
        )
    except RpcError:
        return False
    return isinstance(result, str) and len(result) > 2
