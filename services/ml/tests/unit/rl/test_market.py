"""The pool replay: real states, opportunities only where both fees are beaten, exact sizes."""

from __future__ import annotations

from typing import Any

from titan_ml.rl.market import find_opportunities, load_events, round_trip


def test_replay_finds_the_few_real_gaps(settings_factory: Any) -> None:
    events = load_events(settings_factory().pool_files)
    assert len(events) > 6000
    assert events == sorted(events, key=lambda e: (e.block_number, e.log_index))
    opportunities = find_opportunities(events)
    assert 20 <= len(opportunities) <= 200
    for opp in opportunities:
        assert opp.gross_wei > 0
        assert round_trip(opp.now, opp.sell_pool, opp.size_wei) == opp.gross_wei
        bigger = round_trip(opp.now, opp.sell_pool, opp.size_wei * 2)
        assert bigger is None or bigger <= opp.gross_wei
