"""The execution policy: a tabular Q-learning agent and the replay environment it learns in."""
