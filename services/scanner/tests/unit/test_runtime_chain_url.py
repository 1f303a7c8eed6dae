"""Which chain URL the scanner reads: CHAIN_RPC_URL when set, else the devnet manifest's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from titan_scanner.runtime import build_runtime
from titan_scanner.settings import ScannerSettings

WETH = "0x" + "11" * 20


def _runtime_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"rpc_url": "http://127.0.0.1:8545", "tokens": []}))
    monkeypatch.setenv("DEVNET_MANIFEST", str(manifest))
    monkeypatch.setenv("BASE_TOKENS", WETH)
    monkeypatch.setenv("SCANNER_NATIVE_TOKEN", WETH)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'scanner.db'}")
    runtime = build_runtime(ScannerSettings(), CollectorRegistry())
    assert runtime.chain is not None
    return runtime.chain.rpc.url


def test_manifest_url_when_chain_rpc_url_is_unset(
    clean_environ: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _runtime_url(tmp_path, monkeypatch) == "http://127.0.0.1:8545"


def test_chain_rpc_url_wins_over_the_manifest(
    clean_environ: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In a container the manifest may name the chain as its writer saw it.
    monkeypatch.setenv("CHAIN_RPC_URL", "http://devnet:8545")
    assert _runtime_url(tmp_path, monkeypatch) == "http://devnet:8545"
