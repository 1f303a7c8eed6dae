"""The policy's answers: looked up once made, always what the agent loaded now would say."""

from __future__ import annotations

import random
from collections.abc import Callable

from titan_ml.api.schemas import RlStateIn
from titan_ml.rl.agent import QLearningAgent
from titan_ml.rl.state import ACTIONS, discretise
from titan_ml.serving.actions import decide
from titan_ml.serving.registry import Loaded, ModelRegistry
from titan_ml.settings import MlSettings


def _agent(preferred: int) -> QLearningAgent:
    """An agent that has learned one action in every state with a spread of 30 bps or more."""
    agent = QLearningAgent(seed=1, epsilon=0.0)
    for spread in (3, 4):
        for size in range(4):
            for share in range(4):
                for success in range(2):
                    agent.remember((spread, size, share, success), preferred, 1.0, None)
    return agent


def _states(n: int) -> list[RlStateIn]:
    rng = random.Random(5)
    out = []
    for _ in range(n):
        amount = rng.randrange(10**15, 50 * 10**18)
        gross = rng.randrange(-(10**16), 10**17)
        out.append(
            RlStateIn(
                spread_bps=gross * 10_000 // amount,
                amount_in=amount,
                gross_profit=gross,
                gas_cost=rng.randrange(0, 2 * 10**16),
                recent_success=rng.choice([None, 0.0, 0.75]),
            )
        )
    return out


def _expected(agent: QLearningAgent | None, state: RlStateIn) -> tuple[str, str]:
    gas, gross = float(state.gas_cost or 0), float(state.gross_profit or 0)
    b = discretise(state.spread_bps, state.amount_in / 1e18, gas, gross, state.recent_success)
    if agent is not None and agent.seen(b):
        return ACTIONS[agent.greedy(b)].name, "rl_agent"
    return ("execute_1_1" if gross > gas else "skip"), "threshold_rule"


def test_answers_follow_the_agent_loaded_now(settings_factory: Callable[..., MlSettings]) -> None:
    registry = ModelRegistry(settings_factory())
    states = _states(400)
    for agent in (None, _agent(preferred=3), _agent(preferred=9), None):
        registry.current = Loaded(None, "", agent, "", None)
        for _ in range(2):  # made, then looked up
            answers = [decide(registry, s) for s in states]
            got = [(a.action_name, a.action.source) for a in answers]
            assert got == [_expected(agent, s) for s in states]
        sources = {source for _, source in got}
        assert sources == ({"threshold_rule"} if agent is None else {"rl_agent", "threshold_rule"})
        # one answer per bucket and rule outcome, not one per request
        assert len(registry.current.answers) < len(states) / 2
