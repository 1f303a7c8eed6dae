"""The contracts the devnet deploys: the real Uniswap builds from npm and our own, compiled.

Uniswap's contracts come byte for byte from their npm packages; ours (`contracts/*.sol`) are
compiled with npm `solc` by `compile.js` into `build/contracts.json`, redone when a source
changes.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DEVNET_DIR = Path(__file__).resolve().parents[2]
NODE_MODULES = DEVNET_DIR / "node_modules"
CONTRACTS_DIR = DEVNET_DIR / "contracts"
BUILD_FILE = DEVNET_DIR / "build" / "contracts.json"
ANVIL = NODE_MODULES / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"

_UNISWAP = {
    "WETH9": "@uniswap/v2-periphery/build/WETH9.json",
    "UniswapV2Factory": "@uniswap/v2-core/build/UniswapV2Factory.json",
    "UniswapV2Pair": "@uniswap/v2-core/build/UniswapV2Pair.json",
    "UniswapV2Router02": "@uniswap/v2-periphery/build/UniswapV2Router02.json",
    "UniswapV3Factory": "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json",
    "UniswapV3Pool": "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json",
    "NonfungiblePositionManager": "@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json",
    "SwapRouter": "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json",
    "QuoterV2": "@uniswap/v3-periphery/artifacts/contracts/lens/QuoterV2.sol/QuoterV2.json",
}


class MissingInstallError(RuntimeError):
    """The devnet's npm packages are not installed."""


@dataclass(frozen=True)
class Artifact:
    abi: list[dict[str, Any]]
    bytecode: str


def require_installed() -> None:
    if not ANVIL.is_file():
        raise MissingInstallError(
            f"anvil not found in {NODE_MODULES.relative_to(DEVNET_DIR.parents[1])}: run `make setup`"
        )


@cache
def load(name: str) -> Artifact:
    if name in _UNISWAP:
        require_installed()
        raw = json.loads((NODE_MODULES / _UNISWAP[name]).read_text())
        bytecode = raw.get("bytecode") or raw["evm"]["bytecode"]["object"]
        return Artifact(raw["abi"], bytecode if bytecode.startswith("0x") else "0x" + bytecode)
    own = _compiled()
    return Artifact(own[name]["abi"], own[name]["bytecode"])


def sources_digest() -> str:
    """A digest of everything that decides what gets deployed (for the snapshot cache key)."""
    digest = hashlib.sha256()
    for path in sorted(CONTRACTS_DIR.glob("*.sol")):
        digest.update(path.read_bytes())
    lock = DEVNET_DIR / "package-lock.json"
    if lock.is_file():
        digest.update(lock.read_bytes())
    return digest.hexdigest()


def _compiled() -> dict[str, Any]:
    stamp = BUILD_FILE.with_suffix(".sha256")
    digest = sources_digest()
    if not BUILD_FILE.is_file() or not stamp.is_file() or stamp.read_text() != digest:
        require_installed()
        subprocess.run(
            ["node", str(DEVNET_DIR / "compile.js")], check=True, capture_output=True, text=True
        )
        stamp.write_text(digest)
    compiled: dict[str, Any] = json.loads(BUILD_FILE.read_text())
    return compiled
