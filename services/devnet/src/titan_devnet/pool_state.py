"""Read a pool's exact state from the chain at one block, in the shared wire shape.

Tests use it as the ground truth that the engine, the Python reference and
ingest are compared against. V3 ticks are found through the pool's tick bitmap over the whole
tick range, in one JSON-RPC batch.
"""

from __future__ import annotations

from typing import Any

import httpx
from eth_abi.abi import decode
from web3 import Web3

from titan_common.pool_math.v3.tick_math import MAX_TICK, MIN_TICK

_SELECTORS = {
    name: Web3.keccak(text=signature)[:4].hex()
    for name, signature in {
        "getReserves": "getReserves()",
        "slot0": "slot0()",
        "liquidity": "liquidity()",
        "tickBitmap": "tickBitmap(int16)",
        "ticks": "ticks(int24)",
    }.items()
}


def _int_arg(value: int) -> str:
    return (value % 2**256).to_bytes(32, "big").hex()


def _batch(rpc_url: str, calls: list[tuple[str, str]], block: int) -> list[bytes]:
    body = [
        {
            "jsonrpc": "2.0",
            "id": i,
            "method": "eth_call",
            "params": [{"to": to, "data": "0x" + data}, hex(block)],
        }
        for i, (to, data) in enumerate(calls)
    ]
    answers = sorted(httpx.post(rpc_url, json=body, timeout=60).json(), key=lambda a: a["id"])
    return [bytes.fromhex(a["result"][2:]) for a in answers]


def read_pool_state(rpc_url: str, pool: dict[str, Any], block: int) -> dict[str, Any]:
    address = pool["address"]
    common = {
        "kind": pool["kind"],
        "address": address,
        "dex": pool["dex"],
        "token0": pool["token0"],
        "token1": pool["token1"],
    }
    if pool["kind"] == "v2":
        (raw,) = _batch(rpc_url, [(address, _SELECTORS["getReserves"])], block)
        reserve0, reserve1, _ = decode(["uint112", "uint112", "uint32"], raw)
        return {**common, "reserve0": str(reserve0), "reserve1": str(reserve1), "fee_bps": 30}
    spacing = pool["tick_spacing"]
    words = range((MIN_TICK // spacing) >> 8, ((MAX_TICK // spacing) >> 8) + 1)
    calls = [(address, _SELECTORS["slot0"]), (address, _SELECTORS["liquidity"])]
    calls += [(address, _SELECTORS["tickBitmap"] + _int_arg(w)) for w in words]
    slot0_raw, liquidity_raw, *bitmaps = _batch(rpc_url, calls, block)
    sqrt_price, tick = decode(["uint160", "int24"], slot0_raw[:64])
    (liquidity,) = decode(["uint128"], liquidity_raw)
    indices = []
    for word, raw in zip(words, bitmaps, strict=True):
        bits = int.from_bytes(raw, "big")
        while bits:
            bit = (bits & -bits).bit_length() - 1
            indices.append(((word << 8) + bit) * spacing)
            bits &= bits - 1
    tick_calls = [(address, _SELECTORS["ticks"] + _int_arg(i)) for i in indices]
    nets = [
        decode(["uint128", "int128"], raw[:64])[1] for raw in _batch(rpc_url, tick_calls, block)
    ]
    return {
        **common,
        "fee": pool["fee"],
        "tick_spacing": spacing,
        "sqrt_price_x96": str(sqrt_price),
        "tick": tick,
        "liquidity": str(liquidity),
        "ticks": [
            {"index": i, "liquidity_net": str(n)}
            for i, n in sorted(zip(indices, nets, strict=True))
        ],
    }
