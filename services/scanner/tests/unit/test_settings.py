"""Settings: the scanner's variables by name, validated at start-up, naming what is wrong."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from titan_scanner.settings import ScannerSettings


def test_defaults(clean_environ: None) -> None:
    s = ScannerSettings()
    assert s.scanner_port == 8002
    assert s.shard == (0, 1)
    assert s.base_tokens == ["WETH"]
    assert s.min_profit == 0
    assert s.database_url == "sqlite:///./data/scanner.db"
    assert s.ingest_ws_url == "ws://127.0.0.1:8001/ws/pools"


def test_environment_names(clean_environ: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCANNER_PORT", "9102")
    monkeypatch.setenv("SCANNER_SHARD", "2/3")
    monkeypatch.setenv("MIN_PROFIT", "1000000")
    monkeypatch.setenv("BASE_TOKENS", "WETH, USDC")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db/titan")
    monkeypatch.setenv("SCANNER_GAS_V3_HOP", "120000")
    monkeypatch.setenv("INGEST_URL", "https://ingest:8001/")
    s = ScannerSettings()
    assert (s.scanner_port, s.shard, s.min_profit) == (9102, (2, 3), 1_000_000)
    assert s.base_tokens == ["WETH", "USDC"]
    assert s.database_url.startswith("postgresql")
    assert s.scanner_gas_v3_hop == 120_000
    assert s.ingest_ws_url == "wss://ingest:8001/ws/pools"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SCANNER_SHARD", "3/3"),
        ("SCANNER_SHARD", "1/0"),
        ("MIN_PROFIT", "-1"),
        ("SCANNER_EXECUTOR_ADDRESS", "0x12"),
        ("SCANNER_VERIFY", "sometimes"),
    ],
)
def test_bad_values_name_the_variable(
    clean_environ: None, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as info:
        ScannerSettings()
    assert name.lower() in str(info.value).lower()
