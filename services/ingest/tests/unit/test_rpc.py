"""The JSON-RPC client without a node: every endpoint down is `RpcUnavailable`, promptly."""

import pytest

from titan_ingest.chain.rpc import RpcClient, RpcUnavailable


async def test_all_endpoints_down_is_unavailable() -> None:
    rpc = RpcClient(["http://127.0.0.1:9", "http://127.0.0.1:7"], timeout=1)
    try:
        with pytest.raises(RpcUnavailable):
            await rpc.block_number()
    finally:
        await rpc.close()
