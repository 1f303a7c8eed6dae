"""Secrets stay out of what a service writes: URLs shown without credentials or path, log lines
masked of the configured secrets, URL credentials and `api_key=` values, and still valid JSON."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from titan_common.logging import configure
from titan_common.redaction import Redactor, redact_url
from titan_common.settings import TitanSettings


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("http://u:p@node:1/key", "http://node:1/***"),
        ("https://mainnet.example/v3/abc123", "https://mainnet.example/***"),
        ("wss://node/?key=abc", "wss://node/***"),
        ("http://[::1", "***"),
    ],
)
def test_redact_url_keeps_host_and_port_only(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redactor_masks_and_keeps_json_valid() -> None:
    redact = Redactor(["s3cret-key", "abc"])  # too short to mask everywhere: ignored
    line = json.dumps({"event": 'GET "/ws?api_key=s3cret-key" at http://u:pw@h:1/x', "n": "abc"})
    masked = redact(line)
    assert "s3cret-key" not in masked and "pw" not in masked
    assert json.loads(masked) == {"event": 'GET "/ws?api_key=***" at http://***@h:1/x', "n": "abc"}


def test_settings_name_their_secrets() -> None:
    settings = TitanSettings(
        TITAN_API_KEY="the-api-key",
        chain_rpc_url="https://user:pass@node.example/v3/provider-key",
        engine_url="http://svc:svc-pass@127.0.0.1:3000",
    )
    assert set(settings.secrets()) >= {"the-api-key", "pass", "v3/provider-key", "svc-pass"}
    assert "127.0.0.1" not in settings.secrets() and "user" not in settings.secrets()


def test_configured_logs_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure("DEBUG", "json", ["the-api-key", "provider-key"])
    try:
        structlog.get_logger("t").info("t.call.failed", url="http://a:b@n/provider-key")
        logging.getLogger("titan.test.stdlib").info(
            '"WebSocket /ws?api_key=the-api-key" [accepted]'
        )
        err = capsys.readouterr().err
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in err.splitlines()]
    assert len(lines) == 2
    assert "the-api-key" not in err and "provider-key" not in err and ":b@" not in err
    assert lines[0]["url"] == "http://***@n/***"
