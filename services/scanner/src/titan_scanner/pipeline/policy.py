"""The decision stage's policy: the ML service's RL action per opportunity, or the default.

The default never skips (execute at full size, bid 1.0) and says `source: "default"`, so a
consumer can tell a learned decision from a fallback. The counts (`GET /api/stats`, `policy`)
say how often each answered, by whom inside ML (its learned agent, or its threshold rule for
states the agent never trained in), and how many calls failed: a call that fails waits up to
`SCANNER_ML_TIMEOUT` first, on the block's hot path.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from typing import Any

import structlog

from titan_common.clients import ClientError, MlClient
from titan_common.models import Action

_log = structlog.get_logger("scanner.policy")

DEFAULT_ACTION = Action(execute=True, size_fraction=1.0, gas_bid_multiplier=1.0, source="default")


def parse_action(body: dict[str, Any]) -> Action:
    raw = body.get("action", body)
    if isinstance(raw, str):  # "skip" / "execute" with the parameters beside it
        raw = {**body, "execute": raw != "skip"}
    return _action(
        bool(raw.get("execute", True)),
        float(raw.get("size_fraction", 1.0)),
        float(raw.get("gas_bid_multiplier", 1.0)),
        str(raw.get("source") or body.get("source") or "rl_agent"),
    )


@functools.lru_cache(maxsize=256)
def _action(execute: bool, size_fraction: float, bid: float, source: str) -> Action:
    """An agent has a few dozen distinct actions: each validated once (a block asks for ~50)."""
    return Action(
        execute=execute, size_fraction=size_fraction, gas_bid_multiplier=bid, source=source
    )


class Policy:
    def __init__(self, ml: MlClient | None, available: Callable[[], bool] | None = None) -> None:
        self.ml = ml
        self._available = available or (lambda: True)
        self.by_source: Counter[str] = Counter()  # states ML decided, by the action's source
        self.defaulted = 0  # states given the default
        self.failed_calls = 0  # calls that failed or timed out (their states defaulted)

    async def actions(self, states: list[dict[str, Any]]) -> list[Action]:
        """One action per state, in one request; the default for all when ML is unavailable."""
        if not states:
            return []
        if self.ml is None or not self._available():
            return self._default(len(states))
        try:
            answers = await self.ml.rl_actions(states, q_values=False)
            if len(answers) != len(states):
                raise ValueError(f"{len(answers)} actions for {len(states)} states")
            actions = [parse_action(answer) for answer in answers]
        except (ClientError, KeyError, ValueError, TypeError) as exc:
            self.failed_calls += 1
            _log.warning("scanner.policy.action_failed", reason=str(exc)[:200])
            return self._default(len(states))
        self.by_source.update(action.source for action in actions)
        return actions

    @property
    def answered(self) -> int:
        """States the ML service decided."""
        return sum(self.by_source.values())

    def _default(self, count: int) -> list[Action]:
        self.defaulted += count
        return [DEFAULT_ACTION] * count
