"""A training run on a slice of the real data: files, measured quality, models that load."""

from __future__ import annotations

import json
from typing import Any

import pytest

from titan_ml.forecast.history import load_base_fee_csv
from titan_ml.forecast.model import GB_FILE, METADATA_FILE, SCALER_FILE, XGB_FILE, MarketForecaster
from titan_ml.rl.agent import QLearningAgent
from titan_ml.rl.landing import LandingModel
from titan_ml.training.pipeline import (
    PLOT_FILE,
    Q_TABLE_FILE,
    RL_METRICS_FILE,
    TRAINING_DATA_FILE,
    TrainOptions,
    load_history,
    market_landing,
    rl_markets,
)


def test_training_writes_every_file_small(trained: dict[str, Any]) -> None:
    data = trained["data_dir"]
    for name in (XGB_FILE, GB_FILE, SCALER_FILE, METADATA_FILE, PLOT_FILE):
        path = data / "models" / name
        assert path.is_file(), name
        assert path.stat().st_size <= 5 * 2**20, name
    for name in (Q_TABLE_FILE, RL_METRICS_FILE, TRAINING_DATA_FILE):
        assert (data / name).is_file(), name
    assert (data / "models" / PLOT_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_metadata_names_real_data_span_and_versions(trained: dict[str, Any]) -> None:
    meta = json.loads((trained["data_dir"] / "models" / METADATA_FILE).read_text())
    assert meta["synthetic"] is False
    assert meta["source"] == "may_2023_pepe_crisis_data.csv"
    assert meta["data_span"]["blocks"] == 6000
    assert meta["splits"]["train"]["last_block"] < meta["splits"]["test"]["first_block"]
    assert set(meta["versions"]) >= {"xgboost-cpu", "scikit-learn", "numpy"}
    assert set(meta["evaluation"]["horizons"]) == {"1", "2", "3", "4", "5"}


def test_forecaster_beats_last_value_from_two_blocks(trained: dict[str, Any]) -> None:
    horizons = trained["summary"]["forecaster"]["evaluation"]["horizons"]
    for h in ("2", "3", "4", "5"):
        row = horizons[h]
        print(
            f"h={h} MAE gwei model {row['model']['mae']:.3f} last_value "
            f"{row['last_value']['mae']:.3f} eip1559 {row['eip1559']['mae']:.3f} "
            f"moving_average {row['moving_average']['mae']:.3f}"
        )
        assert row["model"]["mae"] < row["last_value"]["mae"]
        assert row["model"]["mae"] < row["moving_average"]["mae"]
    assert horizons["1"]["model"]["mae"] == horizons["1"]["eip1559"]["mae"]


def test_agent_is_at_least_the_best_fixed_policy(trained: dict[str, Any]) -> None:
    markets = trained["summary"]["rl"]["markets"]
    assert set(markets) == {"pool_replay"}  # no scanner replay in this data dir
    evaluation = markets["pool_replay"]["evaluation"]
    policies = evaluation["policies"]
    for name, row in policies.items():
        print(f"{name}: mean {row['mean_reward_eth']:.4f} ETH, std {row['std_reward_eth']:.4f}")
    best = policies[evaluation["best_fixed_policy"]]["mean_reward_eth"]
    assert policies["agent_greedy"]["mean_reward_eth"] >= best


def test_trained_models_load_and_answer(trained: dict[str, Any], settings_factory: Any) -> None:
    settings = settings_factory(ml_data_dir=trained["data_dir"])
    forecaster = MarketForecaster.load(settings.models_dir)
    history = load_base_fee_csv(settings.base_fee_file).tail(64)
    rows = forecaster.predict(history, [1, 2, 3, 4, 5])
    assert [r.horizon for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].base_fee_wei == int(history.base_fee[-1])
    for r in rows[1:]:
        assert r.model == "ensemble"
        assert r.quantiles["p10"] <= r.base_fee_wei <= r.quantiles["p90"] * 1.001
    agent = QLearningAgent.load(settings.ml_data_dir / Q_TABLE_FILE)
    assert agent.q.shape[-1] == 10


def test_fast_inference_equals_the_libraries_predict(
    trained: dict[str, Any], settings_factory: Any
) -> None:
    import numpy as np

    from titan_ml.forecast.features import feature_matrix

    settings = settings_factory(ml_data_dir=trained["data_dir"])
    forecaster = MarketForecaster.load(settings.models_dir)
    history = load_base_fee_csv(settings.base_fee_file).tail(200)
    anchors = np.arange(40, 190)
    x = (feature_matrix(history, anchors) - forecaster._mean) / forecaster._scale
    assert forecaster._gb._fast is not None
    for row in x:
        fast = forecaster._gb.predict(row[None, :])
        slow = [forecaster.gb[h].predict(row[None, :])[0] for h in forecaster.horizons]
        assert np.allclose(fast, slow, rtol=0, atol=1e-9)
    booster = forecaster.booster
    assert forecaster._xgb._call is not None
    library = booster.inplace_predict(x, validate_features=False)
    for row, expected in zip(x, library, strict=True):
        assert np.array_equal(forecaster._xgb.predict(row[None, :]), expected)
    assert np.allclose(library, booster.predict(__import__("xgboost").DMatrix(x)))


def test_without_the_pool_files_only_the_forecaster_trains(
    settings_factory: Any, tmp_path: Any
) -> None:
    from titan_ml.training.pipeline import TrainOptions, train_all

    empty = tmp_path / "no-shared-data"
    empty.mkdir()
    settings = settings_factory(ml_data_dir=tmp_path / "data").model_copy(
        update={"shared_data_dir": empty}
    )
    summary = train_all(settings, TrainOptions(samples=2000, episodes=5, synthetic=True))
    assert "pool replay files not found" in summary["rl"]["skipped"]
    assert MarketForecaster.load(settings.models_dir).metadata["synthetic"] is True
    assert not (settings.ml_data_dir / Q_TABLE_FILE).exists()


def test_a_scanner_replay_is_a_second_market(tmp_path: Any, settings_factory: Any) -> None:
    """`titan replay`'s file, when in the data dir, is learned from: its newest rows."""
    replay = pytest.importorskip("titan_scanner.verify.replay")
    rows = []
    for i in range(30):
        size = 10**18 + i
        sizes = (size // 4, size // 2, size)
        outs = tuple(s + 1000 * (i + 1) for s in sizes)
        rows.append(
            replay.Replay(
                f"id{i}", float(i), 100 + i, size, 1000 * (i + 1), 210_000, 7, sizes, outs, outs
            )
        )
    replay.write_replays(tmp_path / "rl_replay.csv", rows)
    settings = settings_factory(ml_data_dir=tmp_path, ml_rl_replay_max=12)
    history, _ = load_history(settings, TrainOptions(samples=2000))
    markets = rl_markets(settings, history)
    assert set(markets) == {"pool_replay", "scanner_replay"}
    assert [o.block_number for o in markets["scanner_replay"]] == list(range(118, 130))
    assert markets["scanner_replay"][-1].first[-1] == 30_000
    assert "scanner_replay" not in rl_markets(
        settings_factory(ml_data_dir=tmp_path, ml_rl_replay_max=0), history
    )


def _paper_trades(path: Any, shares: dict[float, tuple[int, int, int]]) -> None:
    """Paper trades as the scanner writes them: per bid (first, late, reverted) counts."""
    testing = pytest.importorskip("titan_scanner.testing")
    paper = pytest.importorskip("titan_scanner.verify.paper")
    trades, block = [], 0
    for bid, (first, late, reverted) in shares.items():
        for outcome in ["first"] * first + ["late"] * late + ["reverted"] * reverted:
            block += 1
            trade = testing.sample_paper_trade(
                block, "reverted" if outcome == "reverted" else "landed"
            )
            predicted = trade.predicted_amount_out
            realized = {"first": predicted, "late": predicted - 7, "reverted": None}[outcome]
            trades.append(
                trade.model_copy(
                    update={"gas_bid_multiplier": bid, "realized_amount_out": realized}
                )
            )
    paper.write_paper_trades(path, trades)


def test_the_scanner_markets_landing_is_measured_by_its_paper_trades(
    tmp_path: Any, settings_factory: Any
) -> None:
    settings = settings_factory(ml_data_dir=tmp_path, ml_rl_landing="paper_trades")
    assert market_landing(settings, "scanner_replay")[1]["source"] == "assumed"  # no file
    _paper_trades(
        settings.paper_trades_file, {1.0: (30, 20, 10), 1.25: (20, 5, 5), 1.5: (48, 8, 4)}
    )
    model, said = market_landing(settings, "scanner_replay")
    print(f"measured landing: {said}")
    measured = said["measured"]
    assert said["source"] == "paper_trades" and measured["trades"] == 150
    assert measured["first_share_by_bid"] == {"1": 0.5, "1.25": 0.6667, "1.5": 0.8}
    assert model.bid_slope > 0 and model.regime_switch == 0
    assert model.p_first(1.0, False) == pytest.approx(0.5, abs=0.05)
    assert model.p_first(1.5, True) == pytest.approx(0.8, abs=0.05)
    assert model.late_share == pytest.approx(33 / 52)  # landed late of the trades not first
    # the mainnet replay keeps the assumed model: no paper trades were made there
    assert market_landing(settings, "pool_replay")[1]["source"] == "assumed"
    # by default the fit is reported, and the assumed model trained on
    model, said = market_landing(
        settings.model_copy(update={"ml_rl_landing": "assumed"}), "scanner_replay"
    )
    assert model == LandingModel() and said["source"] == "assumed"
    assert said["measured"]["trades"] == 150


def test_too_few_paper_trades_leave_the_model_assumed(tmp_path: Any, settings_factory: Any) -> None:
    settings = settings_factory(ml_data_dir=tmp_path, ml_rl_landing="paper_trades")
    _paper_trades(settings.paper_trades_file, {1.0: (30, 10, 10), 1.5: (5, 1, 1)})
    model, said = market_landing(settings, "scanner_replay")
    assert said["source"] == "assumed" and "57 settled paper trades" in said["measured"]
    assert model == LandingModel()
