"""Pricing: the engine batch, gas forecasts, gas cost in the base token and net profit."""
