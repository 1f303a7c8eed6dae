"""Event decoding, including negative ticks and malformed logs."""

import pytest
from eth_abi import encode

from titan_ingest.chain import abi
from titan_ingest.sync.messages import parse_log

POOL = "0x" + "ab" * 20


def _topic_int24(value: int) -> bytes:
    return encode(["int24"], [value])


def _log(topics: list[bytes], data: bytes) -> dict[str, object]:
    return {
        "address": POOL,
        "topics": ["0x" + t.hex() for t in topics],
        "data": "0x" + data.hex(),
        "blockNumber": "0x10",
        "blockHash": "0x" + "cd" * 32,
        "logIndex": "0x2",
        "removed": False,
    }


def test_selectors_are_the_known_ones() -> None:
    assert abi.GET_RESERVES.hex() == "0902f1ac"
    assert abi.SLOT0.hex() == "3850c7bd"
    assert abi.TICK_BITMAP.hex() == "5339c296"
    assert abi.TICKS.hex() == "f30dba93"
    assert abi.SYNC.hex().startswith("1c411e9a")
    assert abi.SWAP.hex().startswith("c42079f9")


def test_swap_with_negative_tick() -> None:
    data = encode(
        ["int256", "int256", "uint160", "uint128", "int24"], [-5, 7, 2**96, 10**18, -887272]
    )
    msg = parse_log(_log([abi.SWAP, b"\0" * 32, b"\0" * 32], data), 1.0)
    assert msg.event == abi.Swap(2**96, 10**18, -887272)
    assert (msg.block_number, msg.log_index, msg.address) == (16, 2, abi.checksum(POOL))


def test_mint_and_burn_read_ticks_from_topics() -> None:
    mint = encode(["address", "uint128", "uint256", "uint256"], [POOL, 55, 1, 2])
    owner = b"\0" * 32
    msg = parse_log(_log([abi.MINT, owner, _topic_int24(-120), _topic_int24(60)], mint), 0.0)
    assert msg.event == abi.Mint(-120, 60, 55)
    burn = encode(["uint128", "uint256", "uint256"], [44, 1, 2])
    msg = parse_log(_log([abi.BURN, owner, _topic_int24(-887220), _topic_int24(887220)], burn), 0)
    assert msg.event == abi.Burn(-887220, 887220, 44)


def test_unknown_event_is_none() -> None:
    msg = parse_log(_log([b"\x01" * 32], b""), 0.0)
    assert msg.event is None


@pytest.mark.parametrize(
    "log",
    [
        {"address": POOL},
        _log([abi.SYNC], b"\x01"),
        _log([abi.MINT, b"\0" * 32], b""),
        {**_log([abi.SYNC], encode(["uint112", "uint112"], [1, 2])), "blockHash": "0x12"},
        {**_log([abi.SYNC], encode(["uint112", "uint112"], [1, 2])), "address": "nope"},
    ],
)
def test_malformed_logs_raise(log: dict[str, object]) -> None:
    with pytest.raises(abi.MalformedLogError):
        parse_log(log, 0.0)
