"""The replay file: what `titan replay` writes is what the ML service's training reads, and a
second run adds to it instead of starting over."""

from __future__ import annotations

from pathlib import Path

import pytest

from titan_scanner.verify.replay import COLUMNS, Replay, write_replays


def _replay(oid: str, detected_at: float, amount_in: int, late_reverts: bool) -> Replay:
    sizes = (amount_in // 4, amount_in // 2, amount_in)
    return Replay(
        oid,
        detected_at,
        block_number=100 + int(detected_at),
        amount_in=amount_in,
        gross_profit=amount_in // 100,
        gas_units=210_000,
        gas_price_wei=2_000_000_007,
        sizes=sizes,
        out_at_block=tuple(s + s // 100 for s in sizes),
        out_late=(None, None, None) if late_reverts else tuple(s - 1 for s in sizes),
    )


def test_runs_merge_by_id_oldest_first(tmp_path: Path) -> None:
    path = tmp_path / "rl_replay.csv"
    assert write_replays(path, [_replay("b", 2.0, 10**20, False), _replay("a", 1.0, 3, True)]) == 2
    assert (
        write_replays(path, [_replay("c", 3.0, 7 * 10**18, False), _replay("a", 1.0, 5, True)]) == 3
    )
    lines = path.read_text().splitlines()
    assert lines[0].split(",") == COLUMNS
    assert [line.split(",")[0] for line in lines[1:]] == ["a", "b", "c"]
    assert lines[1].split(",")[3] == "5"  # the newer replay of "a" won


def test_the_agent_reads_each_fraction_exactly(tmp_path: Path) -> None:
    titan_ml_replay = pytest.importorskip("titan_ml.rl.replay")
    path = tmp_path / "rl_replay.csv"
    big = 12_345_678_901_234_567_891  # past 2**53: no float on the way
    write_replays(path, [_replay("a", 1.0, big, False), _replay("b", 2.0, 8, True)])
    first, second = titan_ml_replay.load_replay(path)
    assert first.size_wei == big and first.gas_units == 210_000
    assert first.gas_price_wei == 2_000_000_007
    assert first.first == (big // 4 // 100, big // 2 // 100, big // 100)
    assert first.late == (-1, -1, -1)
    assert second.late == (None, None, None)


def test_a_file_of_another_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rl_replay.csv"
    path.write_text("opportunity_id,something_else\nx,1\n")
    with pytest.raises(ValueError, match="columns differ"):
        write_replays(path, [_replay("a", 1.0, 100, False)])
    assert path.read_text() == "opportunity_id,something_else\nx,1\n"  # left as it was
