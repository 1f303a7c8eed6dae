"""The snapshot: every pool's exact state at one block, read with JSON-RPC batches."""
