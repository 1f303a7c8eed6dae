"""Write `services/ingest/openapi.json` from the app: `uv run python scripts/openapi.py`."""

from __future__ import annotations

import json
from pathlib import Path

from titan_ingest.app import create_app
from titan_ingest.chain.config import ChainConfig
from titan_ingest.settings import IngestSettings
from titan_ingest.sync.pipeline import IngestPipeline

PATH = Path(__file__).resolve().parents[1] / "openapi.json"


def document() -> str:
    settings = IngestSettings(ingest_rpc_urls=["http://127.0.0.1:8545"])
    pipeline = IngestPipeline(settings, ChainConfig(chain_id=31337, name="openapi", dexes=[]))
    app = create_app(settings, pipeline, run_pipeline=False)
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    PATH.write_text(document())
    print(f"wrote {PATH}")
