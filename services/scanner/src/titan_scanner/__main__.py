"""`python -m titan_scanner`: read the settings, serve the app."""

from __future__ import annotations

import uvicorn

from titan_common.heap import freeze_after_startup
from titan_common.logging import configure
from titan_scanner.app import create_app
from titan_scanner.settings import ScannerSettings


def main() -> None:
    settings = ScannerSettings()
    configure(settings.log_level, settings.log_format, settings.secrets())
    uvicorn.run(
        freeze_after_startup(create_app(settings)),
        host=settings.scanner_bind_addr,
        port=settings.scanner_port,
        log_config=None,
        # frames over the limit are refused before they are buffered
        ws_max_size=settings.ws_max_message_bytes,
        ws_per_message_deflate=settings.ws_compression,
    )


if __name__ == "__main__":
    main()
