"""`titan-ingest` / `python -m titan_ingest`: read the settings, serve the app."""

from __future__ import annotations

import sys

import uvicorn
from pydantic import ValidationError

from titan_common.heap import freeze_after_startup
from titan_common.logging import configure
from titan_ingest.app import create_app
from titan_ingest.settings import IngestSettings


def main() -> int:
    try:
        settings = IngestSettings()
    except ValidationError as exc:
        print(f"titan-ingest: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    configure(settings.log_level, settings.log_format, settings.secrets())
    try:
        app = create_app(settings)
    except (OSError, ValueError) as exc:
        print(f"titan-ingest: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(
        freeze_after_startup(app),
        host=settings.ingest_bind_addr,
        port=settings.ingest_port,
        log_level=settings.log_level.lower(),
        ws="websockets-sansio",
        # frames over the limit are refused before they are buffered
        ws_max_size=settings.ws_max_message_bytes,
        ws_per_message_deflate=settings.ws_compression,
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
