"""`QLearningAgent`: tabular Q-learning with epsilon-greedy exploration and experience replay.

Q-values are in ETH of profit after gas. Unvisited states keep Q = 0 everywhere (`seen` tells);
whoever acts for the agent decides what to do there (serving and evaluation fall back to the
threshold rule, so the agent only overrides where it has learned something).
"""

from __future__ import annotations

import json
import random
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from titan_ml.rl.state import ACTIONS, STATE_SHAPE, State, state_key


class QLearningAgent:
    def __init__(
        self,
        alpha: float = 0.1,
        gamma: float = 0.0,
        epsilon: float = 1.0,
        epsilon_min: float = 0.05,
        epsilon_decay: float = 0.995,
        replay_size: int = 5000,
        batch_size: int = 32,
        seed: int = 7,
    ) -> None:
        self.q = np.zeros((*STATE_SHAPE, len(ACTIONS)))
        self.visits = np.zeros((*STATE_SHAPE, len(ACTIONS)), dtype=np.int64)
        self.alpha, self.gamma = alpha, gamma
        self.epsilon, self.epsilon_min, self.epsilon_decay = epsilon, epsilon_min, epsilon_decay
        self.replay: deque[tuple[State, int, float, State | None]] = deque(maxlen=replay_size)
        self.batch_size = batch_size
        self._rng = random.Random(seed)

    def q_values(self, state: State) -> np.ndarray:
        values: np.ndarray = self.q[state]
        return values

    def seen(self, state: State) -> bool:
        """Whether training ever tried an action in this state."""
        return bool(self.visits[state].any())

    def states_learned(self) -> int:
        """How many of the STATE_SHAPE's states training tried an action in; the others are
        answered by the threshold rule."""
        return int(self.visits.any(axis=-1).sum())

    def greedy(self, state: State) -> int:
        return int(np.argmax(self.q[state]))

    def act(self, state: State) -> int:
        if self._rng.random() < self.epsilon:
            return self._rng.randrange(len(ACTIONS))
        return self.greedy(state)

    def _update(self, state: State, action: int, reward: float, nxt: State | None) -> None:
        # one scalar read and write by a full index (a view per transition made the minibatch
        # replays most of training's time)
        index = (*state, action)
        target = reward
        if nxt is not None and self.gamma:
            target += self.gamma * float(self.q[nxt].max())
        q = self.q[index]
        self.q[index] = q + self.alpha * (target - q)

    def remember(self, state: State, action: int, reward: float, nxt: State | None) -> None:
        """Learn from the transition now, then replay a minibatch of old ones."""
        self.replay.append((state, action, reward, nxt))
        self.visits[state][action] += 1
        self._update(state, action, reward, nxt)
        if len(self.replay) >= self.batch_size:
            for s, a, r, n in self._rng.sample(self.replay, self.batch_size):
                self._update(s, a, r, n)

    def end_episode(self) -> None:
        self.epsilon = max(self.epsilon_min, self.epsilon * self.epsilon_decay)

    # -- persistence ------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        table = {}
        for idx in np.ndindex(*STATE_SHAPE):
            if self.visits[idx].any():
                table[state_key(idx)] = [round(float(v), 9) for v in self.q[idx]]
        return {
            "actions": [a.name for a in ACTIONS],
            "state_shape": list(STATE_SHAPE),
            "q": table,
            "hyperparameters": {
                "alpha": self.alpha,
                "gamma": self.gamma,
                "epsilon_min": self.epsilon_min,
                "epsilon_decay": self.epsilon_decay,
                "replay_size": self.replay.maxlen,
                "batch_size": self.batch_size,
            },
            "units": "ETH of profit after gas",
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1))

    @classmethod
    def load(cls, path: Path) -> QLearningAgent:
        raw = json.loads(path.read_text())
        if raw.get("actions") != [a.name for a in ACTIONS] or raw.get("state_shape") != list(
            STATE_SHAPE
        ):
            raise ValueError("q_table.json was made for other actions or states: retrain")
        agent = cls(epsilon=0.0)
        for key, values in raw["q"].items():
            idx = tuple(int(p) for p in key.split(","))
            agent.q[idx] = np.asarray(values, dtype=np.float64)
            agent.visits[idx] = 1
        return agent
