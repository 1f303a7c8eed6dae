"""Reorgs: find where our recent blocks and the node's canonical chain last agree.

Heads and logs that contradict a remembered block hash, and logs with `removed: true`, send
the sequencer here; it then rolls the store back to the common ancestor and the backfill
re-applies the canonical blocks above it.
"""

from __future__ import annotations

from titan_ingest.chain.rpc import Header, RpcClient
from titan_ingest.state.store import PoolStore

_STEP = 8  # headers fetched per round while walking back


async def find_ancestor(rpc: RpcClient, store: PoolStore, latest: Header) -> int | None:
    """The highest block remembered whose hash is the chain's; None when none is (a reorg
    deeper than the history kept: the caller takes a new snapshot)."""
    top = min(store.head, latest.number)
    if top == latest.number and store.block_hash(top) == latest.hash:
        return top
    number = top
    oldest = store.oldest
    while number >= oldest:
        numbers = [n for n in range(number, max(oldest, number - _STEP + 1) - 1, -1)]
        numbers = [n for n in numbers if store.block_hash(n) is not None]
        if numbers:
            for header in await rpc.headers(numbers):
                if store.block_hash(header.number) == header.hash:
                    return header.number
        number -= _STEP
    return None
