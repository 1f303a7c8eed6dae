"""Every endpoint in process (httpx over ASGI), with trained, missing, corrupt and disabled models."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from titan_ml.app import create_app
from titan_ml.forecast.collect import FeeHistorySource
from titan_ml.forecast.history import load_base_fee_csv

HISTORY_BLOCKS = 64


def _body_history(settings: Any, blocks: int = HISTORY_BLOCKS) -> dict[str, Any]:
    tail = load_base_fee_csv(settings.base_fee_file).tail(blocks)
    return {
        "oldest_block": tail.oldest_block,
        "base_fee_per_gas": [str(int(v)) for v in tail.base_fee],
        "gas_used_ratio": [float(v) for v in tail.gas_used_ratio],
    }


@pytest.fixture
def make_client(settings_factory: Callable[..., Any], node_app: FastAPI) -> Callable[..., Any]:
    """`async with make_client(data_dir, **fields) as (client, settings)`."""
    import contextlib

    @contextlib.asynccontextmanager
    async def make(data_dir: Path, **fields: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
        settings = settings_factory(ml_data_dir=data_dir, chain_id=1, **fields)
        source = FeeHistorySource(
            "http://node/", 64, 0.0, 2.0, transport=httpx.ASGITransport(app=node_app)
        )
        app = create_app(settings, fee_source=source)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ml") as client:
                yield client, settings

    return make


async def test_health_ready_metrics(make_client: Any, model_dir: Path) -> None:
    async with make_client(model_dir) as (client, _):
        assert (await client.get("/health")).json() == {"status": "ok", "service": "ml"}
        ready = await client.get("/ready")
        assert ready.status_code == 200
        assert ready.json() == {"ready": True, "checks": {"forecaster": "ok", "rl_agent": "ok"}}
        metrics = await client.get("/metrics")
        assert "http_request_duration_seconds" in metrics.text


async def test_forecast_from_the_chain_all_horizons(make_client: Any, model_dir: Path) -> None:
    async with make_client(model_dir) as (client, _):
        r = await client.post("/api/forecast/gas", json={"chain_id": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == "ensemble"
    assert body["training_span"]["blocks"] > 0
    assert [f["horizon"] for f in body["forecasts"]] == [1, 2, 3, 4, 5]
    first = body["forecasts"][0]
    assert first["base_fee_wei"] == body["next_base_fee_wei"]
    assert isinstance(first["base_fee_wei"], str) and first["base_fee_wei"].isdigit()
    assert set(first["quantiles"]) == {"p10", "p50", "p90"}
    assert first["priority_fee_wei"] == str(10**8)
    assert first["priority_fee_quantiles"] == {"p50": str(10**8), "p90": str(2 * 10**9)}


async def test_forecast_from_a_given_history_one_horizon(make_client: Any, model_dir: Path) -> None:
    async with make_client(model_dir) as (client, settings):
        body = {"chain_id": 1, "horizon": 3, "fee_history": _body_history(settings)}
        r = await client.post("/api/forecast/gas", json=body)
    assert r.status_code == 200, r.text
    (row,) = r.json()["forecasts"]
    assert row["horizon"] == 3 and row["model"] == "ensemble"
    assert "priority_fee_wei" not in row
    assert int(row["quantiles"]["p10"]) <= int(row["quantiles"]["p90"])


async def test_forecast_accepts_raw_eth_fee_history(make_client: Any, model_dir: Path) -> None:
    async with make_client(model_dir) as (client, settings):
        h = _body_history(settings)
        raw = {
            "oldestBlock": hex(h["oldest_block"]),
            "baseFeePerGas": [hex(int(v)) for v in h["base_fee_per_gas"]],
            "gasUsedRatio": h["gas_used_ratio"],
        }
        r = await client.post("/api/forecast/gas", json={"chain_id": 1, "fee_history": raw})
    assert r.status_code == 200, r.text
    assert r.json()["last_block"] == h["oldest_block"] + HISTORY_BLOCKS - 1


async def test_forecast_batch(make_client: Any, model_dir: Path) -> None:
    async with make_client(model_dir) as (client, settings):
        body = {
            "requests": [
                {"chain_id": 1, "horizon": 1},
                {"chain_id": 1, "horizon": 5, "fee_history": _body_history(settings)},
            ]
        }
        r = await client.post("/api/forecast/gas/batch", json=body)
    assert r.status_code == 200
    assert [x["forecasts"][0]["horizon"] for x in r.json()["results"]] == [1, 5]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"chain_id": 137}, 422, "unknown_chain"),
        ({"chain_id": 1, "horizon": 6}, 422, "horizon_out_of_range"),
        ({"chain_id": 1, "horizon": 0}, 422, "validation_failed"),
        ({"horizon": 1}, 422, "validation_failed"),
        (
            {
                "chain_id": 1,
                "fee_history": {"base_fee_per_gas": ["1", "2", "3"], "gas_used_ratio": [0.5]},
            },
            422,
            "invalid_fee_history",
        ),
        (
            {
                "chain_id": 1,
                "fee_history": {"base_fee_per_gas": ["1", "x"], "gas_used_ratio": [0.5]},
            },
            422,
            "validation_failed",
        ),
        (
            {
                "chain_id": 1,
                "fee_history": {"base_fee_per_gas": ["1", "2"], "gas_used_ratio": [1.5]},
            },
            422,
            "validation_failed",
        ),
    ],
)
async def test_forecast_bad_input(
    make_client: Any, model_dir: Path, body: dict[str, Any], status: int, code: str
) -> None:
    async with make_client(model_dir) as (client, _):
        r = await client.post("/api/forecast/gas", json=body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code


async def test_malformed_json_and_unknown_route(make_client: Any, model_dir: Path) -> None:
    async with make_client(model_dir) as (client, _):
        r = await client.post(
            "/api/forecast/gas", content=b"{nope", headers={"content-type": "application/json"}
        )
        assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
        r = await client.get("/api/nothing")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


async def test_chain_down_is_503(settings_factory: Any, model_dir: Path) -> None:
    settings = settings_factory(
        ml_data_dir=model_dir, chain_id=1, chain_rpc_url="http://127.0.0.1:9", ml_rpc_timeout=0.5
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ml") as client:
            r = await client.post("/api/forecast/gas", json={"chain_id": 1})
    assert r.status_code == 503
    assert r.json()["error"] == {
        "code": "upstream_unavailable",
        "message": r.json()["error"]["message"],
        "details": {"service": "chain"},
    }


SCANNER_STATE = {  # what the scanner's policy_state sends
    "spread_bps": 40,
    "amount_in": str(30 * 10**18),
    "gross_profit": str(12 * 10**16),
    "net_profit": str(10**17),
    "gas_cost": str(2 * 10**16),
    "gas_price_wei": str(8 * 10**10),
    "hops": 2,
}


async def test_rl_action_for_a_scanner_state(make_client: Any, model_dir: Path) -> None:
    async with make_client(model_dir) as (client, _):
        r = await client.post("/api/rl/action", json=SCANNER_STATE)
    assert r.status_code == 200, r.text
    body = r.json()
    # A state the agent never trained in is answered by the threshold rule, as evaluated.
    assert body["action"]["source"] in ("rl_agent", "threshold_rule")
    assert len(body["q_values"]) == 10 and "skip" in body["q_values"]
    assert body["state"] == [3, 2, 0, 1]
    best = max(body["q_values"], key=lambda k: body["q_values"][k])
    if body["action"]["source"] == "rl_agent" and body["q_values"][best] > 0:
        assert body["action_name"] == best
    if body["action"]["source"] == "threshold_rule":  # gross 0.12 ETH clears 0.02 ETH of gas
        assert body["action"]["execute"] is True


async def test_rl_action_batch_and_bad_states(make_client: Any, model_dir: Path) -> None:
    async with make_client(model_dir) as (client, _):
        r = await client.post(
            "/api/rl/action/batch",
            json={"states": [SCANNER_STATE, {**SCANNER_STATE, "spread_bps": 1}]},
        )
        assert r.status_code == 200 and len(r.json()["actions"]) == 2
        single = (await client.post("/api/rl/action", json=SCANNER_STATE)).json()
        assert r.json()["actions"][0] == single
        brief = await client.post(
            "/api/rl/action/batch", json={"states": [SCANNER_STATE], "q_values": False}
        )
        assert brief.json()["actions"] == [{k: v for k, v in single.items() if k != "q_values"}]
        no_gas = {k: v for k, v in SCANNER_STATE.items() if k not in ("gas_cost", "gas_price_wei")}
        r = await client.post("/api/rl/action", json=no_gas)
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_state"
        r = await client.post("/api/rl/action", json={**SCANNER_STATE, "amount_in": "-5"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
        assert "amount_in" in r.text and "decimal string or a 0x-hex quantity" in r.text
        as_hex = {**SCANNER_STATE, "amount_in": hex(30 * 10**18), "gas_cost": 2 * 10**16}
        same = [
            (await client.post("/api/rl/action", json=s)).json() for s in (SCANNER_STATE, as_hex)
        ]
        assert same[0] == same[1] and same[0]["state"]
        r = await client.post("/api/rl/action", json={"spread_bps": "wide"})
        assert r.status_code == 422


async def test_models_endpoint_reports_evaluation(make_client: Any, model_dir: Path) -> None:
    async with make_client(model_dir) as (client, _):
        body = (await client.get("/api/models")).json()
    assert body["enabled"] is True
    horizons = body["forecaster"]["metadata"]["evaluation"]["horizons"]
    assert set(horizons["3"]) >= {"model", "last_value", "eip1559", "moving_average"}
    assert body["rl_agent"]["metadata"]["markets"]["pool_replay"]["evaluation"]["best_fixed_policy"]
    learned = len(json.loads((model_dir / "q_table.json").read_text())["q"])
    assert body["rl_agent"]["coverage"] == {"states_learned": learned, "states": 160}
    assert 0 < learned < 160
    assert body["forecaster"]["coverage"] is None


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
async def test_broken_model_files_give_baselines_and_a_reason(
    make_client: Any, model_dir: Path, damage: str
) -> None:
    xgb = model_dir / "models" / "forecaster_xgb.pkl"
    q_table = model_dir / "q_table.json"
    if damage == "missing":
        xgb.unlink()
        q_table.unlink()
    else:
        xgb.write_bytes(b"not a pickle")
        q_table.write_text("{not json")
    async with make_client(model_dir) as (client, _):
        ready = await client.get("/ready")
        assert ready.status_code == 503
        checks = ready.json()["checks"]
        assert "forecaster_xgb.pkl" in checks["forecaster"]
        assert "q_table.json" in checks["rl_agent"]
        r = await client.post("/api/forecast/gas", json={"chain_id": 1})
        assert r.status_code == 200
        assert r.json()["model"] == "baseline_eip1559"
        assert "forecaster_xgb.pkl" in r.json()["model_reason"]
        r = await client.post("/api/rl/action", json=SCANNER_STATE)
        assert r.status_code == 200 and r.json()["action"]["source"] == "threshold_rule"
        assert r.json()["action"]["execute"] is True  # gross 0.12 ETH > gas 0.02 ETH


async def test_disabled_models_are_ready_baselines(make_client: Any, model_dir: Path) -> None:
    async with make_client(model_dir, enable_ml_models=False) as (client, _):
        ready = await client.get("/ready")
        assert (
            ready.status_code == 200 and "ENABLE_ML_MODELS" in ready.json()["checks"]["forecaster"]
        )
        r = await client.post("/api/forecast/gas", json={"chain_id": 1, "horizon": 2})
        body = r.json()
        assert body["model"] == "baseline_eip1559"
        assert body["forecasts"][0]["base_fee_wei"] == body["next_base_fee_wei"]


async def test_zero_base_fees_fall_back_to_the_baseline(make_client: Any, model_dir: Path) -> None:
    history = {"base_fee_per_gas": ["0"] * 41, "gas_used_ratio": [0.5] * 40}
    async with make_client(model_dir) as (client, _):
        r = await client.post("/api/forecast/gas", json={"chain_id": 1, "fee_history": history})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_fee_history"


async def test_short_history_falls_back_to_the_baseline(make_client: Any, model_dir: Path) -> None:
    async with make_client(model_dir) as (client, settings):
        body = {"chain_id": 1, "fee_history": _body_history(settings, 10)}
        r = await client.post("/api/forecast/gas", json=body)
    assert r.status_code == 200
    assert r.json()["model"] == "baseline_eip1559" and "shorter" in r.json()["model_reason"]


async def test_train_job_runs_and_reloads(make_client: Any, tmp_path: Path) -> None:
    async with make_client(tmp_path / "fresh") as (client, _):
        assert (await client.get("/ready")).status_code == 503
        r = await client.post("/api/train", json={"samples": 3000, "episodes": 50})
        assert r.status_code == 202
        job = r.json()["id"]
        again = await client.post("/api/train", json={"samples": 3000, "episodes": 50})
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "training_in_progress"
        for _ in range(1200):
            status = (await client.get(f"/api/train/{job}")).json()
            if status["status"] in ("succeeded", "failed"):
                break
            await asyncio.sleep(0.1)
        assert status["status"] == "succeeded", status
        assert (await client.get("/ready")).status_code == 200
        assert (await client.get("/api/train/nope")).status_code == 404
        r = await client.post("/api/train", json={"samples": 10})
        assert r.status_code == 422


async def test_auto_retrain_collects_history_and_trains(
    settings_factory: Any, node_app: FastAPI, serve: Any, tmp_path: Path
) -> None:
    async with serve(node_app) as node:
        settings = settings_factory(
            ml_data_dir=tmp_path / "auto",
            chain_id=1,
            chain_rpc_url=f"http://{node}/",
            ml_auto_retrain=True,
            ml_retrain_interval=0.05,
            ml_collect_blocks=1500,
            ml_train_episodes=20,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ml") as client:
                for _ in range(1200):
                    if (await client.get("/ready")).status_code == 200:
                        break
                    await asyncio.sleep(0.1)
                models = (await client.get("/api/models")).json()
    assert models["forecaster"]["loaded"] is True
    assert models["forecaster"]["metadata"]["source"] == "fee_history.csv"
    assert models["forecaster"]["metadata"]["data_span"]["blocks"] == 1500
