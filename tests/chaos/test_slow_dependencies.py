"""A slow dependency: the engine, then ML, answer seconds late (the proxy holds every answer).
The scanner's calls must give up within their configured timeouts (the proxy sees it hang
up), the scanner must carry on and say so, and recover once the delay is gone."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from titan_scanner.stack import wait_until

pytestmark = [pytest.mark.devnet, pytest.mark.slow]

RECOVERY_S = 60.0  # generous: a recovery deadline, not a timing assertion
ENGINE_TIMEOUT_S = 2.0  # SCANNER_ENGINE_TIMEOUT's default, which the stack keeps
ML_TIMEOUT_S = 0.5  # SCANNER_ML_TIMEOUT's default
# How much later than its timeout a caller may hang up: the event loop of a busy process on
# a loaded machine is late too. Far below the delay, so a caller without a timeout fails.
SLACK_S = 1.5


def _stats(chaos: Any) -> dict[str, Any]:
    body: dict[str, Any] = chaos.stack.get("/api/stats").json()
    return body


def _metric(chaos: Any, name: str) -> float:
    text = httpx.get(f"{chaos.url('scanner')}/metrics", timeout=5).text
    match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def _ready(chaos: Any) -> tuple[int, dict[str, str]]:
    answer = chaos.stack.get("/ready")
    return answer.status_code, answer.json()["checks"]


def _publishing_since(chaos: Any, since: float) -> bool:
    newest = chaos.stack.get("/api/opportunities", limit=1).json()["items"]
    return bool(newest) and newest[0]["detected_at"] > since


def test_slow_engine(chaos: Any) -> None:
    proxy, delay = chaos.proxies["engine"], 5.0
    wait_until(lambda: _ready(chaos)[0] == 200, RECOVERY_S, "scanner ready")
    errors = _stats(chaos)["engine_errors"]
    updates = _stats(chaos)["updates_processed"]
    abandoned = len(proxy.abandoned)
    proxy.delay(delay)
    _, checks = wait_until(
        lambda: (r := _ready(chaos))[0] == 503 and r, RECOVERY_S, "/ready naming the engine"
    )
    assert checks["engine"].startswith("down"), checks
    wait_until(lambda: _stats(chaos)["engine_errors"] > errors, RECOVERY_S, "engine errors")
    # It carries on: it answers, and keeps applying ingest's updates meanwhile.
    wait_until(lambda: _stats(chaos)["updates_processed"] > updates, RECOVERY_S, "updates applied")
    waits = proxy.abandoned[abandoned:]
    assert waits, "the scanner never hung up on the slow engine"
    assert max(waits) < ENGINE_TIMEOUT_S + SLACK_S < delay, waits
    errors_metric = _metric(chaos, "scanner_engine_errors_total")
    assert errors_metric >= 1
    proxy.delay(0.0)
    lifted = time.monotonic()
    since = time.time()
    wait_until(lambda: _ready(chaos)[0] == 200, RECOVERY_S, "ready once the engine is quick")
    wait_until(lambda: _publishing_since(chaos, since), RECOVERY_S, "publishing again")
    chaos.report(
        f"[engine {delay:.0f} s late] /ready: engine {checks['engine']!r}; the scanner hung up "
        f"after {min(waits):.2f}-{max(waits):.2f} s ({len(waits)} calls, timeout "
        f"{ENGINE_TIMEOUT_S} s); engine errors {_stats(chaos)['engine_errors'] - errors} "
        f"(metric {errors_metric:.0f}); publishing again {time.monotonic() - lifted:.1f} s "
        f"after the delay was lifted"
    )


def test_slow_ml(chaos: Any) -> None:
    proxy, delay = chaos.proxies["ml"], 3.0
    wait_until(lambda: _ready(chaos)[0] == 200, RECOVERY_S, "scanner ready")
    abandoned = len(proxy.abandoned)
    proxy.delay(delay)
    status, checks = wait_until(
        lambda: (r := _ready(chaos))[1]["ml"] != "ok" and r, RECOVERY_S, "/ready naming ML"
    )
    assert status == 200 and checks["ml"].endswith("degraded"), checks  # optional: it publishes
    since = time.time()
    wait_until(lambda: _publishing_since(chaos, since), RECOVERY_S, "publishing without ML")
    newest = chaos.stack.get("/api/opportunities", limit=1).json()["items"][0]
    waits = proxy.abandoned[abandoned:]
    assert waits, "the scanner never hung up on the slow ML service"
    assert max(waits) < ML_TIMEOUT_S + SLACK_S < delay, waits
    proxy.delay(0.0)
    lifted = time.monotonic()
    wait_until(lambda: _ready(chaos)[1]["ml"] == "ok", RECOVERY_S, "ML back in /ready")
    chaos.report(
        f"[ML {delay:.0f} s late] /ready 200 with ml {checks['ml']!r}; published meanwhile with "
        f"action {newest['action']['source']!r}; the scanner hung up after "
        f"{min(waits):.2f}-{max(waits):.2f} s ({len(waits)} calls, timeout {ML_TIMEOUT_S} s); "
        f"ML ok again {time.monotonic() - lifted:.1f} s after the delay was lifted"
    )
