"""The committed openapi.json is the app's: regenerate with scripts/openapi.py on change."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_openapi_document_has_not_drifted() -> None:
    spec = importlib.util.spec_from_file_location("ml_openapi", ROOT / "scripts/openapi.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "openapi.json").read_text()
    assert committed == module.document(), (
        "services/ml/openapi.json is stale: run `uv run python services/ml/scripts/openapi.py`"
    )
