"""Settings: environment over the seed's config.json over defaults; seed names stay valid."""

import json
from pathlib import Path

import pytest

from titan_common.settings import TitanSettings


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.isupper() and not name.startswith(("PATH", "HOME", "PYTHON", "UV")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_without_environment() -> None:
    settings = TitanSettings()
    assert settings.rust_server_port == 3000
    assert settings.use_websockets is True
    assert settings.cache_duration_seconds == 10.0
    assert settings.api_key is None


def test_seed_env_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USE_WEBSOCKETS", "false")
    monkeypatch.setenv("REAL_DATA_POLLING_INTERVAL", "2.5")
    monkeypatch.setenv("RUST_SERVER_PORT", "3100")
    monkeypatch.setenv("ENABLE_ML_MODELS", "0")
    monkeypatch.setenv("TITAN_SHARED_DATA", "/data/shared")
    monkeypatch.setenv("TITAN_API_KEY", "zq-secret-9")
    settings = TitanSettings()
    assert settings.use_websockets is False
    assert settings.real_data_polling_interval == 2.5
    assert settings.rust_server_port == 3100
    assert settings.enable_ml_models is False
    assert settings.shared_data_dir == Path("/data/shared")
    assert settings.api_key is not None and "zq-secret-9" not in repr(settings)


def test_seed_config_json_is_below_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    Path("config.json").write_text(
        json.dumps(
            {
                "advanced_features": {
                    "real_data_pipeline": {
                        "enabled": False,
                        "use_websockets": False,
                        "polling_interval_seconds": 7,
                        "cache_duration_seconds": 30,
                    }
                }
            }
        )
    )
    settings = TitanSettings()
    assert (settings.use_real_data, settings.use_websockets) == (False, False)
    assert settings.real_data_polling_interval == 7
    assert settings.cache_duration_seconds == 30
    monkeypatch.setenv("CACHE_DURATION_SECONDS", "5")
    assert TitanSettings().cache_duration_seconds == 5


def test_malformed_config_json_names_the_file() -> None:
    Path("config.json").write_text("{oops")
    with pytest.raises(ValueError, match=r"config\.json"):
        TitanSettings()


def test_invalid_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUST_SERVER_PORT", "not-a-port")
    with pytest.raises(ValueError, match="rust_server_port"):
        TitanSettings()


def test_an_empty_variable_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # As `.env.example` lists them and docker compose passes them: empty, not set.
    monkeypatch.setenv("TITAN_API_KEY", "")
    monkeypatch.setenv("CHAIN_RPC_URL", "")
    monkeypatch.setenv("RUST_SERVER_PORT", "")
    settings = TitanSettings()
    assert settings.api_key is None
    assert settings.chain_rpc_url == "http://127.0.0.1:8545"
    assert "chain_rpc_url" not in settings.model_fields_set
    assert settings.rust_server_port == 3000
