"""The agent: learns a clear preference, saves and loads its table, skips unseen states."""

from __future__ import annotations

from pathlib import Path

import pytest

from titan_ml.rl.agent import QLearningAgent
from titan_ml.rl.state import ACTIONS, discretise


def test_learns_the_better_action_and_round_trips(tmp_path: Path) -> None:
    agent = QLearningAgent(seed=1)
    state = (3, 2, 0, 1)
    for _ in range(300):
        action = agent.act(state)
        reward = 1.0 if action == 7 else -0.1
        agent.remember(state, action, reward, None)
        agent.end_episode()
    assert agent.greedy(state) == 7
    path = tmp_path / "q.json"
    agent.save(path)
    loaded = QLearningAgent.load(path)
    assert loaded.greedy(state) == 7
    assert loaded.q_values(state).tolist() == pytest.approx(agent.q_values(state).tolist())


def test_unseen_state_is_skip() -> None:
    assert ACTIONS[QLearningAgent().greedy((0, 0, 0, 0))].name == "skip"


def test_table_for_other_actions_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "q.json"
    path.write_text('{"actions": ["skip"], "state_shape": [1], "q": {}}')
    with pytest.raises(ValueError, match="retrain"):
        QLearningAgent.load(path)


def test_discretise_buckets() -> None:
    assert discretise(40, 30, 2e16, 12e16, None) == (3, 2, 0, 1)
    assert discretise(1, 0.5, 1.0, 0.0, 0.2) == (0, 0, 3, 0)
