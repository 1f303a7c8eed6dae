"""The one JSON error shape of every Titan HTTP API, and how FastAPI apps produce it.

Policy: bad input is the caller's fault and is answered with a 4xx naming the field, never
logged as an error. Anything unexpected is a 500 with a generic message and the request id;
its cause is logged once, here at the edge. A dependency that is down is a 503
`upstream_unavailable` naming it. The body is always
`{"error": {"code": "snake_case", "message": "...", "details": {...}}}`.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

_log = structlog.get_logger("titan.errors")


class TitanError(Exception):
    """An error with a stable wire code and the HTTP status it maps to."""

    def __init__(
        self,
        code: str,
        status: int,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.details = details or {}
        self.headers = headers


class NotFoundError(TitanError):
    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__("not_found", 404, message, details)


class InvalidInputError(TitanError):
    def __init__(
        self, message: str, details: dict[str, Any] | None = None, code: str = "invalid_input"
    ) -> None:
        super().__init__(code, 422, message, details)


class UpstreamUnavailableError(TitanError):
    def __init__(self, service: str, message: str | None = None) -> None:
        super().__init__(
            "upstream_unavailable",
            503,
            message or f"{service} is unavailable",
            {"service": service},
            headers={"Retry-After": "1"},
        )


class UnauthorizedError(TitanError):
    def __init__(self) -> None:
        super().__init__("unauthorized", 401, "missing or wrong X-API-Key header")


class PayloadTooLargeError(TitanError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            "payload_too_large",
            413,
            f"request body larger than {limit} bytes",
            {"limit_bytes": limit},
        )


class OverloadedError(TitanError):
    """More requests in flight than the service takes: come back shortly, rather than queue."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            "overloaded",
            503,
            f"more than {limit} requests in flight; retry shortly",
            {"max_in_flight": limit},
            headers={"Retry-After": "1"},
        )


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def _titan_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TitanError)
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details), exc.status, headers=exc.headers
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {
            "field": ".".join(str(part) for part in err.get("loc", ())),
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]
    if any(f["type"] == "json_invalid" for f in fields):
        return JSONResponse(error_body("malformed_json", "the body is not valid JSON"), 400)
    return JSONResponse(
        error_body("validation_failed", "the request is not valid", {"fields": fields}), 422
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
    code = codes.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    request_id = _request_id(request)
    _log.exception("http.request.failed", path=request.url.path, request_id=request_id)
    return JSONResponse(
        error_body("internal_error", "internal error", {"request_id": request_id}), 500
    )


def install_error_handlers(app: FastAPI) -> None:
    """Make every error `app` can raise answer in the one JSON shape."""
    app.add_exception_handler(TitanError, _titan_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
