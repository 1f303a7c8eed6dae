"""Training the agent on the earlier opportunities and judging it on the later ones.

Opportunities are split in time (first 60 % train, the rest held out). Evaluation runs the same
seeded episodes (landing draws and regimes) for every policy, so the differences are the
policies', not the dice's.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from titan_ml.rl.agent import QLearningAgent
from titan_ml.rl.env import ArbitrageEnv
from titan_ml.rl.opportunity import Opportunity
from titan_ml.rl.state import ACTIONS, Action, State

TRAIN_SHARE = 0.6
RECENT = 4  # attempts remembered for the recent-success bucket
Policy = Callable[[ArbitrageEnv, Opportunity, State], int]

EXECUTE_FULL = ACTIONS.index(Action(True, 1.0, 1.0))


def always_execute(env: ArbitrageEnv, opp: Opportunity, state: State) -> int:
    return EXECUTE_FULL


def never_execute(env: ArbitrageEnv, opp: Opportunity, state: State) -> int:
    return 0


def threshold_rule(env: ArbitrageEnv, opp: Opportunity, state: State) -> int:
    """Execute at full size and a 1.0 bid when the gross profit clears the gas at 1.0."""
    return EXECUTE_FULL if opp.gross_wei > opp.gas_units * opp.gas_price_wei else 0


FIXED_POLICIES: dict[str, Policy] = {
    "always_execute": always_execute,
    "never_execute": never_execute,
    "threshold": threshold_rule,
}


def split(opportunities: list[Opportunity]) -> tuple[list[Opportunity], list[Opportunity]]:
    cut = int(len(opportunities) * TRAIN_SHARE)
    if cut < 5 or len(opportunities) - cut < 5:
        raise ValueError(f"too few opportunities to train and evaluate: {len(opportunities)}")
    return opportunities[:cut], opportunities[cut:]


def run_episode(
    env: ArbitrageEnv,
    policy: Policy,
    rng: np.random.Generator,
    learn: QLearningAgent | None = None,
) -> tuple[float, int]:
    """Total reward (ETH) and executions over the env's opportunities in order."""
    recent: deque[bool] = deque(maxlen=RECENT)
    total, executed = 0.0, 0
    regimes = env.regimes(rng)
    prev: tuple[State, int, float] | None = None
    for opp, contested in zip(env.opportunities, regimes, strict=True):
        state = env.state(opp, recent)
        if learn is not None and prev is not None:
            learn.remember(prev[0], prev[1], prev[2], state)
        action = learn.act(state) if learn is not None else policy(env, opp, state)
        outcome = env.step(opp, ACTIONS[action], contested, rng)
        if ACTIONS[action].execute:
            recent.append(outcome.landed)
            executed += 1
        total += outcome.reward_eth
        prev = (state, action, outcome.reward_eth)
    if learn is not None and prev is not None:
        learn.remember(prev[0], prev[1], prev[2], None)
        learn.end_episode()
    return total, executed


def train_agent(
    envs: list[ArbitrageEnv], episodes: int, seed: int, step: Callable[[], None] | None = None
) -> tuple[QLearningAgent, list[float]]:
    """One table for every market: an episode runs through each market's opportunities."""
    agent = QLearningAgent(seed=seed, epsilon_decay=0.01 ** (1 / max(episodes * 0.8, 1)))
    rng = np.random.default_rng(seed)
    rewards = []
    for _ in range(episodes):
        total = sum(run_episode(env, never_execute, rng, learn=agent)[0] for env in envs)
        rewards.append(total)
        if step:
            step()
    agent.epsilon = 0.0
    return agent, rewards


def evaluate_policies(
    env: ArbitrageEnv, agent: QLearningAgent, episodes: int, seed: int
) -> dict[str, Any]:
    def greedy(e: ArbitrageEnv, o: Opportunity, s: State) -> int:
        return agent.greedy(s) if agent.seen(s) else threshold_rule(e, o, s)

    policies: dict[str, Policy] = {"agent_greedy": greedy, **FIXED_POLICIES}
    out: dict[str, Any] = {}
    for name, policy in policies.items():
        rng = np.random.default_rng(seed)  # the same draws for every policy
        totals, execs = zip(*(run_episode(env, policy, rng) for _ in range(episodes)), strict=True)
        arr = np.asarray(totals)
        out[name] = {
            "mean_reward_eth": round(float(arr.mean()), 6),
            "std_reward_eth": round(float(arr.std()), 6),
            "mean_executions": round(float(np.mean(execs)), 2),
        }
    best = max(FIXED_POLICIES, key=lambda n: out[n]["mean_reward_eth"])
    return {
        "policies": out,
        "best_fixed_policy": best,
        "episodes": episodes,
        "opportunities_per_episode": len(env.opportunities),
        "agent_minus_best_fixed_eth": round(
            out["agent_greedy"]["mean_reward_eth"] - out[best]["mean_reward_eth"], 6
        ),
    }
