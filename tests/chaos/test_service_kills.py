"""Each service killed with SIGKILL in turn while the others run, then started again: the
others degrade and say why on `/ready`, and recover by themselves once it is back; the
scanner's history keeps every opportunity it had committed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from chaos.checks import assert_ingest_equals_chain, head, history_ids, ingest_stats

from titan_scanner.stack import wait_until

pytestmark = [pytest.mark.devnet, pytest.mark.slow]

RECOVERY_S = 60.0  # generous: a recovery deadline, not a timing assertion


def _ready(url: str) -> tuple[int, dict[str, Any]]:
    answer = httpx.get(f"{url}/ready", timeout=5)
    return answer.status_code, answer.json()


def _published(chaos: Any) -> int:
    return int(chaos.stack.get("/api/stats").json()["opportunities_published"])


def _publishing(chaos: Any, since: float) -> bool:
    """An opportunity detected after `since` (unix seconds) is in the history."""
    newest = chaos.stack.get("/api/opportunities", limit=1).json()["items"]
    return bool(newest) and newest[0]["detected_at"] > since


def _degraded(chaos: Any, dependency: str, required: bool) -> dict[str, Any]:
    """The scanner's `/ready` names the dead dependency, and whether it still publishes."""
    status, body = wait_until(
        lambda: (r := _ready(chaos.url("scanner")))[1]["checks"][dependency] != "ok" and r,
        RECOVERY_S,
        f"the scanner's /ready naming {dependency}",
    )
    check = body["checks"][dependency]
    assert check.startswith("down"), check
    if required:
        assert status == 503 and "no opportunities are published" in check, body
    else:
        assert status == 200 and check.endswith("degraded"), body
    return body


def _kill_and_restart(
    chaos: Any, name: str, required: bool | None, while_down: Callable[[], str] | None = None
) -> None:
    """SIGKILL `name`; check the scanner degrades (`required`: whether it still publishes;
    None: it is the scanner, `while_down` checks the others); start it again; check it all
    comes back and the scanner's history lost nothing."""
    stack = chaos.stack
    wait_until(lambda: _ready(chaos.url("scanner"))[0] == 200, RECOVERY_S, "scanner ready")
    wait_until(lambda: _publishing(chaos, time.time() - 30), RECOVERY_S, "publishing")
    before = history_ids(chaos.stack)
    killed_at_block, _ = head(chaos.devnet)
    stack.processes[name].kill()
    said = while_down() if while_down is not None else ""
    if required is not None:
        said = f"scanner /ready: {name} {_degraded(chaos, name, required)['checks'][name]!r}"
    if required:
        time.sleep(2.0)  # nothing may be published without it
        frozen = _published(chaos)
        time.sleep(3.0)
        assert _published(chaos) == frozen, f"published without the {name}"
    time.sleep(2.0)
    restarted_at = time.time()
    stack.processes[name].start()
    started = time.monotonic()
    # Ready again, and (for a dependency) seen back: a scanner without ML was ready all along.
    wait_until(
        lambda: (
            (r := _ready(chaos.url("scanner")))[0] == 200
            and (required is None or r[1]["checks"][name] == "ok")
        ),
        RECOVERY_S,
        f"scanner ready again with {name} ok",
    )
    wait_until(lambda: _publishing(chaos, restarted_at), RECOVERY_S, "publishing again")
    recovery = time.monotonic() - started
    # Nothing priced on a state the fault left incomplete (a block half-sent when ingest died):
    # every proof from the kill to now paid what was predicted.
    until, _ = head(chaos.devnet)

    def settled() -> tuple[list[dict[str, Any]]] | None:  # a tuple: an empty list is an answer
        items = stack.all_opportunities(block_from=killed_at_block, block_to=until)
        return None if any(o["verification"]["status"] == "pending" for o in items) else (items,)

    (proven,) = wait_until(settled, RECOVERY_S, "the proofs since the kill")
    chaos.assert_exact(proven)
    after = history_ids(chaos.stack)
    lost = before - after
    assert not lost, f"{len(lost)} committed opportunities lost: {sorted(lost)[:5]}"
    chaos.report(
        f"[SIGKILL {name}] while down: {said}; publishing again {recovery:.1f} s after the "
        f"restart; history {len(before)} -> {len(after)} opportunities, none lost"
    )


def test_engine_killed_and_restarted(chaos: Any) -> None:
    _kill_and_restart(chaos, "engine", required=True)


def test_ml_killed_and_restarted(chaos: Any) -> None:
    _kill_and_restart(chaos, "ml", required=False)


def test_ingest_killed_and_restarted(chaos: Any) -> None:
    _kill_and_restart(chaos, "ingest", required=True)
    wait_until(lambda: ingest_stats(chaos.stack)["connected"], RECOVERY_S, "ingest connected")
    assert_ingest_equals_chain(chaos.stack, chaos.devnet, chaos.flow)


def test_scanner_killed_and_restarted(chaos: Any) -> None:
    """Nothing depends on the scanner: ingest drops its client and stays ready."""
    clients = ingest_stats(chaos.stack)["ws_clients"]
    assert clients >= 1

    def ingest_carries_on() -> str:
        wait_until(
            lambda: ingest_stats(chaos.stack)["ws_clients"] < clients,
            RECOVERY_S,
            "ingest dropping the dead scanner's socket",
        )
        status, body = _ready(chaos.url("ingest"))
        assert status == 200, body
        return f"ingest dropped its client and stays ready ({body['checks']})"

    _kill_and_restart(chaos, "scanner", required=None, while_down=ingest_carries_on)
    assert ingest_stats(chaos.stack)["ws_clients"] == clients
