"""Several RPC endpoints: a dead one is skipped and counted."""

from __future__ import annotations

from typing import Any

import pytest

from titan_ingest.chain.rpc import RpcClient

pytestmark = [pytest.mark.devnet]


async def test_http_failover_to_a_live_endpoint(chain: Any) -> None:
    rpc = RpcClient(["http://127.0.0.1:9", chain.rpc_url], timeout=2)
    try:
        before = chain.head  # the shared devnet may mine meanwhile
        assert before <= await rpc.block_number() <= chain.head
        assert rpc.failovers == 1 and rpc.url == chain.rpc_url
        results = await rpc.batch([("eth_chainId", []), ("eth_blockNumber", [])])
        assert results[0] == hex(31337)
    finally:
        await rpc.close()
