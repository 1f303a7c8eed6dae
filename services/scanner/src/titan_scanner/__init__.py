"""titan_scanner: opportunities from live pool updates, priced exactly, net of forecast gas."""

__version__ = "0.1.0"
