"""Schemathesis against every HTTP API (the engine and the three FastAPI services), each a real
process on the devnet: no 5xx, every 4xx/5xx body in the one JSON error shape, and every answer
conforming to the service's own OpenAPI document (body schema and content type)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from .conftest import CASES

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = {
    "engine": ROOT / "services/engine-rs/openapi.json",
    "ml": ROOT / "services/ml/openapi.json",
    "ingest": ROOT / "services/ingest/openapi.json",
    "scanner": ROOT / "services/scanner/openapi.json",
}
# Examples per API operation and generation mode: bounds the folder to about two minutes.
MAX_EXAMPLES = 40


def load(service: str) -> Any:
    """The committed document, which each service's drift test holds equal to what it serves
    (checked again below against the running process)."""
    schema = schemathesis.openapi.from_path(DOCUMENTS[service])
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=MAX_EXAMPLES
    )
    return schema


engine_schema, ml_schema = load("engine"), load("ml")
ingest_schema, scanner_schema = load("ingest"), load("scanner")


def error_shape(ctx: Any, response: Any, case: Any) -> None:
    """Every error answer is `{"error": {"code", "message", "details"}}`, nothing else."""
    if response.status_code < 400:
        return None
    body = json.loads(response.content)
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, body
    assert isinstance(error["code"], str) and error["code"].islower(), body
    assert isinstance(error["message"], str) and error["message"], body
    assert isinstance(error["details"], dict), body
    return None


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, error_shape]


# `/ready` answers 503 with its readiness body (not an error) while a dependency is missing.
READY_CHECKS = [response_schema_conformance, content_type_conformance]


def run(service: str, case: Any, url: str) -> None:
    CASES[service] += 1
    ready = case.path == "/ready"
    response = case.call_and_validate(
        base_url=url, checks=READY_CHECKS if ready else CHECKS, timeout=30
    )
    if ready and response.status_code in (200, 503):
        assert response.json()["ready"] is (response.status_code == 200)
    elif ready:
        assert 400 <= response.status_code < 500, response.text
        error_shape(None, response, case)


@pytest.mark.parametrize("service", sorted(DOCUMENTS))
def test_served_document_is_the_fuzzed_one(service: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(service).url
    served = httpx.get(f"{url}/openapi.json", timeout=10).json()
    assert served == json.loads(DOCUMENTS[service].read_text())


@engine_schema.parametrize()
def test_engine(case: Any, engine: Any) -> None:
    run("engine", case, engine.url)


@ml_schema.parametrize()
def test_ml(case: Any, ml: Any) -> None:
    run("ml", case, ml.url)


@ingest_schema.parametrize()
def test_ingest(case: Any, ingest: Any) -> None:
    run("ingest", case, ingest.url)


@scanner_schema.parametrize()
def test_scanner(case: Any, scanner: Any) -> None:
    run("scanner", case, scanner.url)
