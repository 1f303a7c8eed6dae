"""Fee history collected over JSON-RPC in chunks round-trips through the CSV training reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI

from titan_common.jsonrpc import ChainError
from titan_ml.forecast.collect import collect_to_file, parse_fee_history
from titan_ml.forecast.history import load_base_fee_csv


async def test_collect_to_file_round_trips(
    serve: Any, node_app: FastAPI, settings_factory: Any, tmp_path: Path
) -> None:
    out = tmp_path / "fee_history.csv"
    async with serve(node_app) as node:
        rows = await collect_to_file(f"http://{node}/", 2500, out)  # three eth_feeHistory calls
    assert rows == 2500
    collected = load_base_fee_csv(out)
    shipped = load_base_fee_csv(settings_factory().base_fee_file).tail(2500)
    assert collected.oldest_block == shipped.oldest_block
    assert np.array_equal(collected.base_fee, shipped.base_fee)
    assert np.allclose(collected.gas_used_ratio, shipped.gas_used_ratio)
    assert collected.reward is not None and collected.reward_percentiles == (50.0, 90.0)


async def test_unreachable_node_is_a_chain_error(tmp_path: Path) -> None:
    with pytest.raises(ChainError):
        await collect_to_file("http://127.0.0.1:9/", 10, tmp_path / "x.csv", rpc_timeout=0.5)


def test_parse_fee_history_hex() -> None:
    history = parse_fee_history(
        {
            "oldestBlock": "0x10",
            "baseFeePerGas": ["0x3b9aca00", "0x3b9aca01"],
            "gasUsedRatio": [0.5],
            "reward": [["0x1", "0x2"]],
        }
    )
    assert history.oldest_block == 16 and history.base_fee.tolist() == [1e9, 1e9 + 1]
    assert history.reward is not None and history.reward.tolist() == [[1.0, 2.0]]
