"""Settings shared by every Titan service, read once at start-up from the environment.

Each service extends `TitanSettings` with its own fields, named after their environment
variables (`ml_port` is `ML_PORT`). The seed's variable names are fields here, and the seed's
`config.json` (`advanced_features.real_data_pipeline`) is a source below the environment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from titan_common.limits import Limits
from titan_common.redaction import url_secrets

# The seed's config.json keys under advanced_features.real_data_pipeline, and our field names.
_SEED_PIPELINE_KEYS = {
    "enabled": "use_real_data",
    "use_websockets": "use_websockets",
    "polling_interval_seconds": "real_data_polling_interval",
    "cache_duration_seconds": "cache_duration_seconds",
}


class SeedConfigJsonSource(PydanticBaseSettingsSource):
    """The seed's `config.json`, ranked below the environment.

    The file is `TITAN_CONFIG_FILE` (default `config.json` in the working directory); a
    missing file is no error, a malformed one is, naming the file.
    """

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._values = _read_seed_config(path) if path is not None else {}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._values.items() if k in self.settings_cls.model_fields}


def _read_seed_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"TITAN_CONFIG_FILE {path}: not valid JSON ({exc})") from exc
    pipeline = raw.get("advanced_features", {}).get("real_data_pipeline", {})
    return {ours: pipeline[seed] for seed, ours in _SEED_PIPELINE_KEYS.items() if seed in pipeline}


class TitanSettings(BaseSettings):
    """What every service needs: the chain, logging, shared data, the other services' URLs."""

    # An empty variable means its default: `.env.example` lists every name, most of them empty,
    # and docker compose passes such names through as empty strings.
    model_config = SettingsConfigDict(
        extra="ignore", frozen=True, populate_by_name=True, env_ignore_empty=True
    )

    # The chain. The devnet's manifest supplies its own URLs; these are for real chains.
    chain_id: int = 31337
    chain_rpc_url: str = "http://127.0.0.1:8545"
    chain_ws_url: str = "ws://127.0.0.1:8545"
    devnet_manifest: Path = Path("run/devnet/manifest.json")

    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "console"

    # The real data sets beside the clone (../shared/data), never copied into the repo.
    shared_data_dir: Path = Field(Path("../shared/data"), alias="TITAN_SHARED_DATA")
    # When set, every endpoint but /health requires it in the X-API-Key header.
    api_key: SecretStr | None = Field(None, alias="TITAN_API_KEY")
    # Admission limits of every HTTP API (titan_common.limits); requests in flight are per
    # service (`<SERVICE>_MAX_IN_FLIGHT`).
    max_body_bytes: int = Field(1 << 20, ge=1, alias="TITAN_MAX_BODY_BYTES")
    ws_max_message_bytes: int = Field(1 << 16, ge=1, alias="TITAN_WS_MAX_MESSAGE_BYTES")
    ws_max_message_rate: float = Field(20.0, gt=0, alias="TITAN_WS_MAX_MESSAGE_RATE")
    # permessage-deflate on the services' WebSockets: off, since compressing each message
    # costs both ends CPU on the latency path (a 1.5 KB opportunity: the scanner's send 80-95
    # -> 50 us under the e2e benchmark's load), for bandwidth that stays on the machine or LAN.
    ws_compression: bool = Field(False, alias="TITAN_WS_COMPRESSION")

    # The seed's names, kept valid.
    use_real_data: bool = True
    use_websockets: bool = True
    real_data_polling_interval: float = 1.0
    cache_duration_seconds: float = 10.0
    enable_rust_engine: bool = True
    rust_server_port: int = 3000
    enable_ml_models: bool = True
    ml_models_trained: bool = False
    ml_auto_retrain: bool = False

    # Where the other services answer.
    engine_url: str = "http://127.0.0.1:3000"
    ingest_url: str = "http://127.0.0.1:8001"
    scanner_url: str = "http://127.0.0.1:8002"
    ml_url: str = "http://127.0.0.1:8003"

    def secrets(self) -> list[str]:
        """What the logs must never show: the API key, every URL's credentials, and the path and
        query of node URLs (fields named `*rpc*`/`*ws*`), where providers put their keys."""
        found = [self.api_key.get_secret_value()] if self.api_key else []
        for name, value in self:
            urls = value if isinstance(value, list) else [value]
            for url in urls:
                if isinstance(url, str) and "://" in url:
                    found += url_secrets(url, with_path="rpc" in name or "ws" in name)
        return found

    def limits(self, max_in_flight: int) -> Limits:
        """The admission limits, with the service's own in-flight bound."""
        return Limits(
            max_in_flight=max_in_flight,
            max_body_bytes=self.max_body_bytes,
            ws_max_message_bytes=self.ws_max_message_bytes,
            ws_max_message_rate=self.ws_max_message_rate,
        )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: arguments, then the environment, then the seed's config.json.
        config_file = os.environ.get("TITAN_CONFIG_FILE", "config.json")
        return (
            init_settings,
            env_settings,
            SeedConfigJsonSource(settings_cls, Path(config_file)),
        )
