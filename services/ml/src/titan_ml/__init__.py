"""titan_ml: gas forecasts and an execution policy, trained and measured on real chain data."""
