"""Find pools from the factories' `PairCreated` (V2) and `PoolCreated` (V3) logs.

Logs are read in block ranges with `eth_getLogs`; a range the node refuses as too large is
halved until it passes. A pool is kept when both of its tokens are on the chain's allow-list
(or the list is empty).
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from titan_ingest.chain import abi
from titan_ingest.chain.config import ChainConfig, DexConfig, PoolMeta
from titan_ingest.chain.rpc import RpcClient, RpcError

_log = structlog.get_logger("titan_ingest.discovery")


def explicit_pools(chain: ChainConfig) -> list[PoolMeta]:
    return [PoolMeta.from_config(pool, chain) for pool in chain.pools]


def parse_creation(log: dict[str, Any], dexes: dict[str, DexConfig]) -> PoolMeta | None:
    """The pool a factory log announces; None when the log is not a creation we know."""
    topics = [abi.to_bytes(t) for t in log.get("topics", [])]
    created = abi.decode_created(topics, abi.to_bytes(log.get("data", "0x")))
    if created is None:
        return None
    return pool_meta(dexes.get(abi.checksum(log["address"])), created)


def pool_meta(dex: DexConfig | None, created: abi.Created) -> PoolMeta | None:
    """The pool `created` by the factory of `dex`; None when that factory does not make it."""
    if dex is None or (dex.kind == "v3") != created.v3:
        return None
    if created.v3:
        return PoolMeta(
            created.pool,
            dex.name,
            "v3",
            created.token0,
            created.token1,
            fee=created.fee,
            tick_spacing=created.tick_spacing,
        )
    return PoolMeta(
        created.pool, dex.name, "v2", created.token0, created.token1, fee_bps=dex.fee_bps
    )


class FactoryDiscovery:
    def __init__(self, rpc: RpcClient, chain: ChainConfig, log_range: int = 2000) -> None:
        self.rpc = rpc
        self.chain = chain
        self.log_range = log_range
        self.dexes = {d.factory: d for d in chain.dexes}

    def followed(self, factory: str, created: abi.Created) -> PoolMeta | None:
        """The pool a creation log of `factory` announces, when it is one to follow."""
        meta = pool_meta(self.dexes.get(factory), created)
        if meta is None or not self.chain.token_allowed(meta.token0, meta.token1):
            return None
        return meta

    def filter_params(self, from_block: int, to_block: int) -> dict[str, Any]:
        return {
            "fromBlock": hex(from_block),
            "toBlock": hex(to_block),
            "address": list(self.dexes),
            "topics": [["0x" + t.hex() for t in abi.FACTORY_TOPICS]],
        }

    async def discover(self, to_block: int, start_block: int | None = None) -> list[PoolMeta]:
        """Every allowed pool the factories created from `start_block` to `to_block`."""
        start = start_block
        if start is None:
            start = min([d.start_block for d in self.chain.dexes] or [self.chain.start_block])
        ranges = [
            (lo, min(lo + self.log_range - 1, to_block))
            for lo in range(start, to_block + 1, self.log_range)
        ]
        semaphore = asyncio.Semaphore(4)

        async def fetch(lo: int, hi: int) -> list[dict[str, Any]]:
            async with semaphore:
                return await self._logs(lo, hi)

        chunks = await asyncio.gather(*(fetch(lo, hi) for lo, hi in ranges))
        pools: dict[str, PoolMeta] = {}
        for log in (log for chunk in chunks for log in chunk):
            try:
                meta = parse_creation(log, self.dexes)
            except (ValueError, KeyError, TypeError) as exc:  # MalformedLogError too
                _log.warning("ingest.discovery.log_malformed", error=str(exc))
                continue
            if meta is not None and self.chain.token_allowed(meta.token0, meta.token1):
                pools.setdefault(meta.address, meta)
        _log.info(
            "ingest.discovery.finished", pools=len(pools), from_block=start, to_block=to_block
        )
        return list(pools.values())

    async def _logs(self, lo: int, hi: int) -> list[dict[str, Any]]:
        try:
            return await self.rpc.get_logs(self.filter_params(lo, hi))
        except RpcError:
            if hi <= lo:
                raise
            mid = (lo + hi) // 2
            return [*await self._logs(lo, mid), *await self._logs(mid + 1, hi)]
