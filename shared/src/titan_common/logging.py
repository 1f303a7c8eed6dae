"""Structured logging for the Python services: structlog, JSON or console, set up once.

Events are named `<service>.<subject>.<past-tense verb>` (`ingest.pool.synced`) and carry
key-value fields; context such as the request id is bound through contextvars.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any

import structlog

from titan_common.redaction import Redactor

# Libraries that log a line per request, call or subscription at INFO (httpx: every request
# to the engine and ML, several a block): noise, and time on the pipeline's path. Their
# warnings stay; at DEBUG everything does.
CHATTY_LIBRARIES = ("httpx", "httpcore", "web3", "websockets")


def configure(level: str = "INFO", fmt: str = "console", secrets: Iterable[str] = ()) -> None:
    """Route structlog and the standard library's logging to stderr in one format; every line
    is masked of `secrets` (`TitanSettings.secrets()`) and of URL credentials on its way out."""
    inner: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    redact = Redactor(secrets)

    def renderer(logger: Any, name: str, event: Any) -> str:
        # masked once rendered: values, nested structures and tracebacks alike
        return redact(inner(logger, name, event))

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processor=renderer)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet = logging.NOTSET if root.level <= logging.DEBUG else max(logging.WARNING, root.level)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(quiet)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
