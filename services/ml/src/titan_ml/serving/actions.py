"""Answering an RL action request: the state's buckets, the greedy action and its Q-values.

Without an agent, or for a state the agent never trained in, the threshold rule answers
(execute at full size and a 1.0 bid when the gross profit clears the gas), labelled
`threshold_rule`; the evaluation judges the agent with the same fallback.

An answer is a function of the buckets and of that rule's test, so each is made once per loaded
agent and then looked up, with its JSON: the scanner asks for a block's fifty states at once, on
its hot path, and a batch's answer is those JSON texts joined (`batch_json`).
"""

from __future__ import annotations

from dataclasses import dataclass

from titan_common.errors import InvalidInputError
from titan_ml.api.schemas import ActionOut, RlActionResponse, RlStateIn
from titan_ml.rl.agent import QLearningAgent
from titan_ml.rl.opportunity import GAS_UNITS
from titan_ml.rl.state import ACTIONS, State, discretise
from titan_ml.rl.train import EXECUTE_FULL
from titan_ml.serving.registry import ModelRegistry


def _gas_and_gross(state: RlStateIn) -> tuple[float, float]:
    if state.gas_cost is not None:
        gas = float(state.gas_cost)
    elif state.gas_price_wei is not None:
        gas = float(state.gas_price_wei) * GAS_UNITS
    else:
        raise InvalidInputError(
            "state needs gas_cost or gas_price_wei",
            {"fields": ["gas_cost", "gas_price_wei"]},
            code="invalid_state",
        )
    if state.gross_profit is not None:
        gross = float(state.gross_profit)
    else:
        gross = state.spread_bps * float(state.amount_in) / 1e4
    return gas, gross


@dataclass(frozen=True, slots=True)
class Answer:
    response: RlActionResponse
    json: bytes  # the response's JSON
    brief_json: bytes  # the same without the Q-values

    @classmethod
    def of(cls, response: RlActionResponse) -> Answer:
        brief = response.model_dump_json(exclude={"q_values"}).encode()
        return cls(response, response.model_dump_json().encode(), brief)


def decide(registry: ModelRegistry, state: RlStateIn) -> RlActionResponse:
    return _lookup(registry, state).response


def batch_json(registry: ModelRegistry, states: list[RlStateIn], q_values: bool) -> bytes:
    """`RlBatchResponse`'s JSON for these states: each answer's text, made once, joined."""
    answers = [_lookup(registry, state) for state in states]
    parts = [a.json for a in answers] if q_values else [a.brief_json for a in answers]
    return b'{"actions":[' + b",".join(parts) + b"]}"


def _lookup(registry: ModelRegistry, state: RlStateIn) -> Answer:
    gas, gross = _gas_and_gross(state)
    size = float(state.amount_in) / 10**state.base_token_decimals
    buckets = discretise(state.spread_bps, size, gas, gross, state.recent_success)
    loaded = registry.current
    key = (buckets, gross > gas)
    answer: Answer | None = loaded.answers.get(key)
    if answer is None:
        answer = loaded.answers[key] = Answer.of(_answer(loaded.agent, buckets, gross > gas))
    return answer


def _answer(agent: QLearningAgent | None, buckets: State, clears_gas: bool) -> RlActionResponse:
    seen = agent is not None and agent.seen(buckets)
    if agent is not None and seen:
        index = agent.greedy(buckets)
        source = "rl_agent"
    else:  # no agent, or a state it never trained in: the threshold rule
        index = EXECUTE_FULL if clears_gas else 0
        source = "threshold_rule"
    q_values: dict[str, float] = {}
    if agent is not None:
        values = agent.q_values(buckets).tolist()
        q_values = {a.name: v for a, v in zip(ACTIONS, values, strict=True)}
    action = ACTIONS[index]
    return RlActionResponse(
        action=ActionOut(
            execute=action.execute,
            size_fraction=action.size_fraction,
            gas_bid_multiplier=action.gas_bid_multiplier,
            source=source,
        ),
        action_name=action.name,
        q_values=q_values,
        state=list(buckets),
        seen_state=seen,
    )
