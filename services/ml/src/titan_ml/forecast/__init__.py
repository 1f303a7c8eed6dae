"""Gas forecasts: fee history in, base fee per horizon with quantiles out."""
