"""titan_common: the Python package every Titan service shares (models, settings, errors, logs)."""

__version__ = "0.1.0"
