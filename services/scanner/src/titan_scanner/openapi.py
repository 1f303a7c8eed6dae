"""`python -m titan_scanner.openapi`: write the committed `openapi.json` from the code."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from titan_scanner.app import create_app
from titan_scanner.settings import ScannerSettings

PLACEHOLDER = "0x" + "11" * 20


def document() -> str:
    settings = ScannerSettings(base_tokens=[PLACEHOLDER], scanner_native_token=PLACEHOLDER)
    return json.dumps(create_app(settings).openapi(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("services/scanner/openapi.json")
    target.write_text(document())
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
