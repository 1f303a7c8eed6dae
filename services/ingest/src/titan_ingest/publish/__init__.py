"""Publishing: pool updates fanned out to `WS /ws/pools` clients."""
