"""titan_devnet: a real local chain (anvil) with the real Uniswap contracts and a market flow."""
