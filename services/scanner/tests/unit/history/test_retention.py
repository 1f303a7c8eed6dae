"""Retention: the history keeps its newest opportunities, cut back in chunks while saves go on,
and the running scanner does it on a schedule (`SCANNER_HISTORY_MAX_OPPORTUNITIES`)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from titan_common.models import Verification
from titan_scanner.history import OpportunityFilter, OpportunityRepository
from titan_scanner.history.models import HopRow
from titan_scanner.testing import sample_opportunity

WETH = "0x" + "c0" * 20
USDC = "0x" + "a0" * 20


def _opp(n: int) -> Any:
    return sample_opportunity(n, 100 + n, 1000 + n, WETH, USDC)


def _hops(repo: OpportunityRepository) -> int:
    with repo.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(HopRow)) or 0)


async def test_prune_keeps_the_newest_with_their_hops(tmp_path: Path) -> None:
    repo = OpportunityRepository.open(f"sqlite:///{tmp_path}/h.db")
    try:
        await repo.save_many([(_opp(n), f"k{n}") for n in range(23)])
        assert await repo.prune(keep=10, chunk=4) == 13
        items, _ = await repo.page(OpportunityFilter(), limit=50)
        assert [o.id for o in items] == [f"opp-{n}" for n in reversed(range(13, 23))]
        assert _hops(repo) == 10 * 2  # no hop outlives its opportunity
        assert await repo.prune(keep=10) == 0
        await repo.set_verification("opp-0", Verification(status="verified"))  # gone: no-op
        assert await repo.get("opp-0") is None
        with pytest.raises(ValueError):
            await repo.prune(keep=0)
    finally:
        repo.close()


async def test_saves_go_on_while_it_prunes(tmp_path: Path) -> None:
    repo = OpportunityRepository.open(f"sqlite:///{tmp_path}/h.db")
    try:
        await repo.save_many([(_opp(n), f"k{n}") for n in range(40)])
        pruning = asyncio.create_task(repo.prune(keep=5, chunk=1))  # 35 turns of one row
        await asyncio.sleep(0)
        for n in range(40, 45):
            await repo.save(_opp(n), f"k{n}")
        assert await pruning == 35
        assert await repo.count() == 10  # the five kept and the five saved meanwhile
        assert _hops(repo) == 10 * 2
    finally:
        repo.close()


@pytest.fixture
def retention_env(clean_environ: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCANNER_HISTORY_MAX_OPPORTUNITIES", "3")
    monkeypatch.setenv("SCANNER_HISTORY_PRUNE_INTERVAL", "0.05")


async def test_the_scanner_cuts_its_history_back_on_schedule(
    retention_env: None, service: Any
) -> None:
    await service.runtime.repository.save_many([(_opp(n), f"k{n}") for n in range(8)])
    stats: dict[str, Any] = {}

    async def pruned() -> bool:
        stats.update((await service.client.get("/api/stats")).json())
        return bool(stats["opportunities_stored"] == 3 and stats["opportunities_pruned"] == 5)

    for _ in range(100):
        if await pruned():
            break
        await asyncio.sleep(0.02)
    assert stats["opportunities_stored"] == 3 and stats["opportunities_pruned"] == 5, stats
