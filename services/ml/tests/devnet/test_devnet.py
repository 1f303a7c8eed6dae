"""The service against the real devnet (anvil): live `eth_feeHistory`, forecasts, collection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from titan_ml.app import create_app
from titan_ml.forecast.collect import collect_to_file
from titan_ml.forecast.history import load_base_fee_csv

pytestmark = [pytest.mark.devnet]


async def test_forecasts_and_collection_on_the_devnet(
    devnet: Any, serve: Any, settings_factory: Any, model_dir: Path, tmp_path: Path
) -> None:
    devnet.run_flow(40)  # blocks with real swaps: gas used varies
    head = devnet.w3.eth.block_number
    settings = settings_factory(
        ml_data_dir=model_dir,
        chain_id=31337,
        chain_rpc_url=devnet.rpc_url,
        ml_fee_history_ttl=0.0,
    )
    async with (
        serve(create_app(settings)) as host,
        httpx.AsyncClient(base_url=f"http://{host}", timeout=10) as client,
    ):
        r = await client.post("/api/forecast/gas", json={"chain_id": 31337})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["last_block"] >= head
        first = body["forecasts"][0]
        block = devnet.w3.eth.get_block(body["last_block"])
        next_fee = int(body["next_base_fee_wei"])
        assert first["horizon"] == 1 and int(first["base_fee_wei"]) == next_fee
        assert body["model"] in ("ensemble", "baseline_eip1559")
        assert int(block["baseFeePerGas"]) > 0
        assert "priority_fee_wei" in first  # anvil answers reward percentiles
    out = tmp_path / "fee_history.csv"
    rows = await collect_to_file(devnet.rpc_url, 30, out)
    history = load_base_fee_csv(out)
    assert rows == history.blocks == 30
    assert int(history.base_fee[-2]) == int(
        devnet.w3.eth.get_block(history.last_block)["baseFeePerGas"]
    )
