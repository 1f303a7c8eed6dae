"""`.env.example` lists every variable the Python services read, and nothing they don't."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {
    "titan_common.settings": "TitanSettings",
    "titan_ingest.settings": "IngestSettings",
    "titan_scanner.settings": "ScannerSettings",
    "titan_ml.settings": "MlSettings",
}
# Read outside pydantic settings classes: the Rust engine, the launcher, the devnet, make.
OTHERS = {
    "DEVNET_PORT", "DEVNET_SCENARIO", "DEVNET_SEED", "DEVNET_BLOCK_TIME", "TITAN_CONFIG_FILE",
    "UP_TRAIN_AGENT_AFTER",
    "ENGINE_BIND_ADDR", "ENGINE_MAX_BATCH", "ENGINE_MAX_IN_FLIGHT", "ENGINE_MAX_BODY_BYTES",
    "ENGINE_MAX_BATCHES_IN_FLIGHT",
    "ENGINE_CHAIN_RPC_URLS", "ENGINE_DEX_FEES_BPS",
    "ENGINE_BIN", "INGEST_PORT", "SCANNER_PORT", "ML_PORT",
    # docker compose (docker-compose.yml)
    "COMPOSE_PROFILES", "TITAN_TAG", "ENGINE_PUBLISH", "SCANNER_PUBLISH", "SCANNER_REPLICAS",
    "GRAFANA_PUBLISH", "GRAFANA_ADMIN_PASSWORD",
}  # fmt: skip


def settings_variables() -> set[str]:
    names = set()
    for module, cls_name in SETTINGS.items():
        cls = getattr(importlib.import_module(module), cls_name)
        names |= {(field.alias or name).upper() for name, field in cls.model_fields.items()}
    return names


def test_env_example_lists_exactly_the_variables_read() -> None:
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))
    read = settings_variables() | OTHERS
    assert not read - listed, f"missing from .env.example: {sorted(read - listed)}"
    assert not listed - read, f"listed but read by nothing: {sorted(listed - read)}"
