"""The JSON-RPC client against a real node (anvil): answers, the node's errors, no node."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from titan_common.jsonrpc import ChainError, JsonRpcClient, RpcError, RpcUnavailable, to_int
from titan_devnet.anvil import CHAIN_ID, Anvil, free_port


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    anvil = Anvil(free_port())
    anvil.start()
    try:
        yield anvil
    finally:
        anvil.stop()


async def test_answers_come_back_exact(node: Anvil) -> None:
    rpc = JsonRpcClient(node.rpc_url, timeout=5.0)
    try:
        assert to_int(await rpc.request("eth_chainId", [])) == CHAIN_ID
        accounts = await rpc.request("eth_accounts", [])
        balance = to_int(await rpc.request("eth_getBalance", [accounts[0], "latest"]))
        assert balance == 100_000_000 * 10**18  # past 64 bits: never through a float
        assert to_int(await rpc.request("eth_blockNumber", [])) >= 0
    finally:
        await rpc.aclose()


async def test_an_error_answer_is_the_nodes_not_an_outage(node: Anvil) -> None:
    rpc = JsonRpcClient(node.rpc_url, timeout=5.0)
    try:
        with pytest.raises(RpcError) as caught:
            await rpc.request("eth_noSuchMethod", [])
        assert caught.value.method == "eth_noSuchMethod"
        assert not isinstance(caught.value, RpcUnavailable)
        with pytest.raises(RpcError):  # a call at a block the node does not have
            await rpc.request("eth_call", [{"to": "0x" + "1" * 40, "data": "0x"}, hex(10**9)])
    finally:
        await rpc.aclose()


async def test_no_node_is_unavailable() -> None:
    port = free_port()  # nothing listens there
    rpc = JsonRpcClient(f"http://user:secret@127.0.0.1:{port}", timeout=1.0)
    try:
        with pytest.raises(RpcUnavailable) as caught:
            await rpc.request("eth_blockNumber", [])
        assert isinstance(caught.value, ChainError)
        assert "secret" not in str(caught.value)  # the URL's credentials stay out of messages
    finally:
        await rpc.aclose()


async def test_credentials_in_the_url_are_sent_as_basic_auth(node: Anvil) -> None:
    """Hosted nodes take `https://user:key@host`: the call must go out (anvil ignores it)."""
    url = node.rpc_url.replace("http://", "http://user:key@")
    rpc = JsonRpcClient(url, timeout=5.0)
    try:
        assert to_int(await rpc.request("eth_chainId", [])) == CHAIN_ID
    finally:
        await rpc.aclose()
