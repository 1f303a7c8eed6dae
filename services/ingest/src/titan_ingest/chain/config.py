"""Chain configs: which DEX factories, tokens and pools ingest follows on one chain.

Two sources: a config file per chain (`chains/ethereum.json`, real mainnet addresses) whose
pools are discovered from the factories' creation logs, and the devnet's manifest, whose
explicit pool list is used as is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from titan_common.models import Address, Dex

Kind = Literal["v2", "v3"]


class _Config(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class DexConfig(_Config):
    name: Dex
    kind: Kind
    factory: Address
    router: Address | None = None
    fee_bps: int = Field(30, ge=0, lt=10_000)  # V2 only: the swap fee in basis points
    start_block: int = Field(0, ge=0)  # at or before the factory's deployment


class TokenConfig(_Config):
    symbol: str
    address: Address
    decimals: int = Field(18, ge=0, le=255)


class PoolConfig(_Config):
    address: Address
    dex: Dex
    kind: Kind
    token0: Address
    token1: Address
    fee_bps: int | None = Field(None, ge=0, lt=10_000)
    fee: int | None = Field(None, ge=0, lt=1_000_000)
    tick_spacing: int | None = Field(None, ge=1, le=16384)


class ChainConfig(_Config):
    chain_id: int
    name: str
    rpc_urls: list[str] = Field(default_factory=list)
    ws_urls: list[str] = Field(default_factory=list)
    dexes: list[DexConfig]
    # The token allow-list: discovered pools are kept when both tokens are listed.
    # Empty means every pool.
    tokens: list[TokenConfig] = Field(default_factory=list)
    # Explicit pools; when empty, pools are discovered from the factories.
    pools: list[PoolConfig] = Field(default_factory=list)
    start_block: int = Field(0, ge=0)

    @classmethod
    def load(cls, path: Path) -> ChainConfig:
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"chain config {path}: {exc}") from exc
        return cls.model_validate(raw)

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> ChainConfig:
        """The devnet's chain, from the manifest its deploy step writes."""
        dexes = [
            {**dex, "start_block": 0}
            for dex in manifest["dexes"]
            if dex.get("kind") in ("v2", "v3")
        ]
        return cls.model_validate(
            {
                "chain_id": manifest["chain_id"],
                "name": f"devnet-{manifest.get('scenario', 'default')}",
                "rpc_urls": [manifest["rpc_url"]] if manifest.get("rpc_url") else [],
                "ws_urls": [manifest["ws_url"]] if manifest.get("ws_url") else [],
                "dexes": dexes,
                "tokens": manifest.get("tokens", []),
                "pools": manifest.get("pools", []),
                "start_block": 0,
            }
        )

    @classmethod
    def load_manifest(cls, path: Path) -> ChainConfig:
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"DEVNET_MANIFEST {path}: {exc}") from exc
        return cls.from_manifest(raw)

    def dex(self, name: str) -> DexConfig | None:
        return next((d for d in self.dexes if d.name == name), None)

    def token_allowed(self, token0: str, token1: str) -> bool:
        if not self.tokens:
            return True
        allowed = {t.address for t in self.tokens}
        return token0 in allowed and token1 in allowed


@dataclass(frozen=True, slots=True)
class PoolMeta:
    """What does not change about a pool: where it is, which DEX, its tokens and fee."""

    address: str
    dex: str
    kind: Kind
    token0: str
    token1: str
    fee_bps: int = 30  # V2
    fee: int = 0  # V3, in hundredths of a basis point
    tick_spacing: int = 1  # V3

    @classmethod
    def from_config(cls, pool: PoolConfig, chain: ChainConfig) -> PoolMeta:
        dex = chain.dex(pool.dex)
        if pool.kind == "v2":
            fee_bps = pool.fee_bps if pool.fee_bps is not None else (dex.fee_bps if dex else 30)
            return cls(pool.address, pool.dex, "v2", pool.token0, pool.token1, fee_bps=fee_bps)
        return cls(
            pool.address,
            pool.dex,
            "v3",
            pool.token0,
            pool.token1,
            fee=pool.fee or 0,
            tick_spacing=pool.tick_spacing or 1,
        )
