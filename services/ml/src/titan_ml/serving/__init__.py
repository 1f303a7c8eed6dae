"""What the running service holds: the loaded models and the training jobs."""
