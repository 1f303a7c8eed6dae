"""The token graph: tokens are nodes, pools are edges between their two tokens."""

from titan_scanner.graph.tokens import PoolInfo, TokenGraph

__all__ = ["PoolInfo", "TokenGraph"]
