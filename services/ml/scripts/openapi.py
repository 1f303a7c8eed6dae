"""Write `services/ml/openapi.json` from the app: `uv run python services/ml/scripts/openapi.py`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from titan_ml.app import create_app
from titan_ml.settings import MlSettings

PATH = Path(__file__).resolve().parents[1] / "openapi.json"


def document() -> str:
    settings = MlSettings(ml_data_dir=Path(os.devnull), enable_ml_models=False)
    return json.dumps(create_app(settings).openapi(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    PATH.write_text(document())
    print(f"wrote {PATH}")
