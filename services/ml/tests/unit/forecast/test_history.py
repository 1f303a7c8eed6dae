"""Fee history: the derived gas used ratio reproduces the real next base fee, and nothing later."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from titan_ml.forecast.history import (
    FeeHistory,
    derive_gas_used_ratio,
    load_base_fee_csv,
    next_base_fee,
    synthetic,
)


def test_shipped_file_loads_as_fee_history(settings_factory: Any) -> None:
    history = load_base_fee_csv(settings_factory().base_fee_file)
    assert history.oldest_block == 17_180_000
    assert history.blocks == 14_651 - 1
    assert len(history.base_fee) == 14_651
    assert history.gas_used_ratio.min() >= 0.0 and history.gas_used_ratio.max() <= 1.0


def test_eip1559_rule_reproduces_the_real_next_base_fee(settings_factory: Any) -> None:
    history = load_base_fee_csv(settings_factory().base_fee_file).tail(2000)
    errors = [
        abs(next_base_fee(int(b), float(r)) - int(n)) / int(n)
        for b, r, n in zip(
            history.base_fee[:-1], history.gas_used_ratio, history.base_fee[1:], strict=True
        )
    ]
    assert max(errors) < 1e-6  # the ratio recovers gas used to within a few gas


def test_derived_ratio_of_a_block_uses_only_the_next_base_fee() -> None:
    fees = np.array([100e9, 112.5e9, 112.5e9, 98.4375e9])
    assert derive_gas_used_ratio(fees).tolist() == [1.0, 0.5, 0.0]
    changed = fees.copy()
    changed[3] = 50e9
    assert derive_gas_used_ratio(changed)[:2].tolist() == [1.0, 0.5]


def test_tail_keeps_the_next_base_fee() -> None:
    history = synthetic(200, seed=1)
    tail = history.tail(64)
    assert tail.blocks == 64 and len(tail.base_fee) == 65
    assert tail.last_block == history.last_block
    assert tail.base_fee[-1] == history.base_fee[-1]


def test_shape_is_checked() -> None:
    with pytest.raises(ValueError, match="one entry more"):
        FeeHistory(0, np.ones(3), np.ones(3))


def test_synthetic_fee_wanders_but_stays_near_its_start() -> None:
    history = synthetic(5000, seed=2)
    assert history.base_fee.min() > 3e9 and history.base_fee.max() < 300e9
    steps = np.diff(history.base_fee) / history.base_fee[:-1]
    assert np.abs(steps).max() <= 0.125 + 1e-9


def test_extended_joins_overlaps_and_refuses_gaps() -> None:
    full = FeeHistory(
        100,
        np.arange(1.0, 12.0),  # blocks 100..109 and the next block's base fee
        np.linspace(0.1, 1.0, 10),
        reward=np.ones((10, 2)),
        reward_percentiles=(50.0, 90.0),
    )
    assert full.reward is not None
    # blocks 100..106, then 105..109 with 105 and 106 rewritten by a reorg
    old = full.head(7)
    assert old.last_block == 106 and np.array_equal(old.base_fee, full.base_fee[:8])
    rewritten = full.tail(5)
    joined = old.extended(rewritten)
    assert joined.oldest_block == 100 and joined.last_block == 109
    assert np.array_equal(joined.base_fee, full.base_fee)
    assert np.array_equal(joined.gas_used_ratio, full.gas_used_ratio)
    assert joined.reward is not None and joined.reward.shape == (10, 2)
    gap = FeeHistory(109, full.base_fee[9:], full.gas_used_ratio[9:])
    assert old.extended(gap) is gap  # block 108 missing: the newer history alone
    no_rewards = FeeHistory(105, full.base_fee[5:], full.gas_used_ratio[5:])
    assert old.extended(no_rewards) is no_rewards
