"""The service over a real uvicorn socket on port 0, with a stand-in node on another."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from titan_ml.app import create_app


async def test_endpoints_over_a_real_socket(
    serve: Any, node_app: FastAPI, settings_factory: Any, model_dir: Path
) -> None:
    async with serve(node_app) as node:
        settings = settings_factory(
            ml_data_dir=model_dir, chain_id=1, chain_rpc_url=f"http://{node}/"
        )
        async with (
            serve(create_app(settings)) as host,
            httpx.AsyncClient(base_url=f"http://{host}") as client,
        ):
            assert (await client.get("/health")).status_code == 200
            assert (await client.get("/ready")).json()["ready"] is True
            r = await client.post("/api/forecast/gas", json={"chain_id": 1, "horizon": 2})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["model"] == "ensemble" and body["forecasts"][0]["horizon"] == 2
            assert r.headers["x-request-id"]
            state = {
                "spread_bps": 40,
                "amount_in": str(30 * 10**18),
                "gross_profit": str(12 * 10**16),
                "gas_cost": str(2 * 10**16),
            }
            r = await client.post("/api/rl/action", json=state)
            assert r.status_code == 200
            assert r.json()["action"]["source"] in ("rl_agent", "threshold_rule")
            r = await client.post("/api/forecast/gas", json={"chain_id": 2})
            assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_chain"
            metrics = (await client.get("/metrics")).text
            assert 'route="/api/forecast/gas"' in metrics
