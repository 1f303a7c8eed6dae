"""The pool replay: real states, opportunities only where both fees are beaten, exact sizes."""

from __future__ import annotations

from typing import Any

from titan_ml.rl.market import find_gaps, load_events, opportunity, round_trip
from titan_ml.rl.opportunity import GAS_UNITS
from titan_ml.rl.state import SIZE_FRACTIONS, part_of


def test_replay_finds_the_few_real_gaps(settings_factory: Any) -> None:
    events = load_events(settings_factory().pool_files)
    assert len(events) > 6000
    assert events == sorted(events, key=lambda e: (e.block_number, e.log_index))
    gaps = find_gaps(events)
    assert 20 <= len(gaps) <= 200
    for gap in gaps:
        assert gap.gross_wei > 0
        assert round_trip(gap.now, gap.sell_pool, gap.size_wei) == gap.gross_wei
        bigger = round_trip(gap.now, gap.sell_pool, gap.size_wei * 2)
        assert bigger is None or bigger <= gap.gross_wei


def test_each_size_fraction_is_priced_now_and_one_event_late(settings_factory: Any) -> None:
    gaps = find_gaps(load_events(settings_factory().pool_files))
    for gap in gaps:
        opp = opportunity(gap, 30e9)
        assert (opp.size_wei, opp.gross_wei, opp.gas_units) == (
            gap.size_wei,
            gap.gross_wei,
            GAS_UNITS,
        )
        assert opp.first[SIZE_FRACTIONS.index(1.0)] == gap.gross_wei
        # profit is concave in size and zero at zero: every smaller part still pays
        assert all(g is not None and 0 < g <= gap.gross_wei for g in opp.first)
        if gap.late is None:
            assert opp.late is None
        else:
            assert opp.late is not None
            for f, late in zip(SIZE_FRACTIONS, opp.late, strict=True):
                assert late == round_trip(gap.late, gap.sell_pool, max(part_of(gap.size_wei, f), 1))
    assert (
        sum(o.late is not None for o in map(lambda g: opportunity(g, 1.0), gaps)) >= len(gaps) - 1
    )
