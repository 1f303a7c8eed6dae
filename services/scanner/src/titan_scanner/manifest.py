"""Names to addresses: base tokens by symbol, the executor and the verifier, from the devnet's
manifest when there is one; addresses given in the environment always win."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from titan_common.models import parse_address
from titan_scanner.settings import ScannerSettings


def load_manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _address_of(entry: Any) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        value = entry.get("address")
        return value if isinstance(value, str) else None
    return None


def token_symbols(manifest: dict[str, Any]) -> dict[str, str]:
    """Symbol (upper case) to checksummed address."""
    tokens = manifest.get("tokens", {})
    result: dict[str, str] = {}
    items = tokens.items() if isinstance(tokens, dict) else enumerate(tokens)
    for key, entry in items:
        address = _address_of(entry)
        symbol = entry.get("symbol", key) if isinstance(entry, dict) else key
        if address and isinstance(symbol, str):
            result[symbol.upper()] = parse_address(address)
    return result


def resolve_token(name: str, manifest: dict[str, Any]) -> str:
    """An address as given, or a symbol looked up in the manifest."""
    if name.startswith("0x"):
        return parse_address(name)
    symbols = token_symbols(manifest)
    if name.upper() not in symbols:
        raise ValueError(f"token {name!r} is neither an address nor a symbol of the manifest")
    return symbols[name.upper()]


def contract(manifest: dict[str, Any], *names: str) -> str | None:
    """The address of the first of `names` found at the top or under `contracts`/`accounts`."""
    for scope in (manifest, manifest.get("contracts", {}), manifest.get("accounts", {})):
        if not isinstance(scope, dict):
            continue
        for name in names:
            address = _address_of(scope.get(name))
            if address:
                return parse_address(address)
    return None


@dataclass(frozen=True)
class ChainNames:
    """The chain and the addresses the scanner works with, resolved once."""

    rpc_url: str
    base_tokens: tuple[str, ...]
    native_token: str
    executor: str | None
    verifier: str | None


def resolve_chain(settings: ScannerSettings) -> ChainNames:
    manifest = load_manifest(settings.devnet_manifest)
    try:
        base_tokens = tuple(resolve_token(t, manifest) for t in settings.base_tokens)
        native = resolve_token(settings.scanner_native_token, manifest)
    except ValueError as exc:
        raise ValueError(f"BASE_TOKENS / SCANNER_NATIVE_TOKEN: {exc}") from exc
    executor = settings.scanner_executor_address or contract(
        manifest, "executor", "arb_executor", "TitanArbExecutor", "titan_arb_executor"
    )
    # CHAIN_RPC_URL, when set, wins over the manifest's URL: the manifest names the chain as its
    # writer saw it, which another host or container may not reach.
    rpc_url = (
        settings.chain_rpc_url
        if "chain_rpc_url" in settings.model_fields_set
        else manifest.get("rpc_url") or settings.chain_rpc_url
    )
    return ChainNames(
        str(rpc_url),
        base_tokens,
        native,
        executor,
        settings.scanner_verifier_address or contract(manifest, "verifier"),
    )
