"""History: migrations at start-up, round trips, paging newest first, filters, restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, inspect
from sqlalchemy.exc import OperationalError

from titan_common.models import Opportunity, Verification
from titan_scanner.history import OpportunityFilter, OpportunityRepository
from titan_scanner.history.models import Base
from titan_scanner.testing import sample_opportunity

WETH = "0x" + "c0" * 20
USDC = "0x" + "a0" * 20
DAI = "0x" + "d0" * 20


def _opp(n: int, block: int, net: int, dex: str = "uniswap_v2", mid: str = USDC) -> Opportunity:
    return sample_opportunity(n, block, net, WETH, mid, dex)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/nested/scanner.db"


async def test_round_trip_and_restart(url: str) -> None:
    repo = OpportunityRepository.open(url)
    opp = _opp(1, 100, 10**20)
    await repo.save(opp, "key-1")
    assert await repo.get("opp-1") == opp
    repo.close()
    again = OpportunityRepository.open(url)  # migrations are idempotent; data is kept
    assert await again.get("opp-1") == opp
    assert await again.get("missing") is None
    assert set(inspect(again.engine).get_table_names()) >= {"opportunities", "alembic_version"}
    again.close()


async def test_paging_newest_first(url: str) -> None:
    repo = OpportunityRepository.open(url)
    for n in range(7):
        await repo.save(_opp(n, 100 + n, 1000 + n), f"k{n}")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        items, cursor = await repo.page(OpportunityFilter(), limit=3, cursor=cursor)
        seen += [o.id for o in items]
        pages += 1
        if cursor is None:
            break
    assert seen == [f"opp-{n}" for n in reversed(range(7))]
    assert pages == 3
    repo.close()


async def test_filters(url: str) -> None:
    repo = OpportunityRepository.open(url)
    await repo.save(_opp(1, 100, 50, dex="sushiswap"), "a")
    await repo.save(_opp(2, 101, 5 * 10**30, mid=DAI), "b")
    await repo.save(_opp(3, 102, 900), "c")

    async def ids(**kw: object) -> list[str]:
        items, _ = await repo.page(OpportunityFilter(**kw))  # type: ignore[arg-type]
        return [o.id for o in items]

    assert await ids(block_from=101) == ["opp-3", "opp-2"]
    assert await ids(block_to=101, block_from=101) == ["opp-2"]
    assert await ids(dex="sushiswap") == ["opp-1"]
    assert await ids(token=DAI) == ["opp-2"]
    assert await ids(token=WETH) == ["opp-3", "opp-2", "opp-1"]
    assert await ids(min_profit=900) == ["opp-3", "opp-2"]
    assert await ids(min_profit=10**30) == ["opp-2"]
    assert await repo.count(OpportunityFilter(min_profit=60)) == 2
    repo.close()


async def test_the_dex_and_token_filters_search_hops_by_opportunity(url: str) -> None:
    """The filters' EXISTS over the hops is one index search per opportunity in SQLite's plan.
    On an index of the DEX alone it walked every hop of that DEX for each opportunity: 4.8 s
    for a page of 50 at 97k opportunities."""
    repo = OpportunityRepository.open(url)
    await repo.save(_opp(1, 100, 50, dex="sushiswap"), "a")
    statements: list[tuple[str, object]] = []

    def keep(_c: object, _cur: object, statement: str, parameters: object, *_: object) -> None:
        if "EXISTS" in statement and "opportunity_hops" in statement:
            statements.append((statement, parameters))

    event.listen(repo.engine, "before_cursor_execute", keep)
    try:
        assert [o.id for o in (await repo.page(OpportunityFilter(dex="sushiswap")))[0]] == ["opp-1"]
        assert [o.id for o in (await repo.page(OpportunityFilter(token=USDC)))[0]] == ["opp-1"]
    finally:
        event.remove(repo.engine, "before_cursor_execute", keep)
    assert len(statements) == 2
    with repo.engine.connect() as connection:
        for statement, parameters in statements:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            steps = " / ".join(str(row[3]) for row in plan)
            assert "opportunity_seq=?" in steps, steps
    repo.close()


def test_the_migrations_build_the_models_schema(url: str) -> None:
    repo = OpportunityRepository.open(url)
    with repo.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    repo.close()


async def test_verification_update(url: str) -> None:
    repo = OpportunityRepository.open(url)
    await repo.save(_opp(1, 100, 50), "a")
    done = Verification(status="verified", realized_amount_out=2**200 + 58, block_number=100)
    await repo.set_verification("opp-1", done)
    got = await repo.get("opp-1")
    assert got is not None and got.verification == done
    assert await repo.status_counts() == {"verified": 1}
    repo.close()


async def test_proofs_left_pending_by_a_stopped_scanner_are_settled_skipped(url: str) -> None:
    repo = OpportunityRepository.open(url)
    await repo.save_many([(_opp(1, 100, 50), "a"), (_opp(2, 101, 50), "b")])
    done = Verification(status="verified", realized_amount_out=57, block_number=100)
    await repo.set_verification("opp-1", done)
    repo.close()
    again = OpportunityRepository.open(url)  # the next scanner process
    assert await again.settle_pending() == 1
    assert await again.status_counts() == {"verified": 1, "skipped": 1}
    assert await again.settle_pending() == 0
    again.close()


async def test_saves_made_during_a_write_share_the_next_transaction(url: str) -> None:
    """Group commit: a burst of blocks costs a commit per write, not one per block."""
    repo = OpportunityRepository.open(url)
    commits: list[int] = []
    event.listen(repo.engine, "commit", lambda _conn: commits.append(1))
    burst = [[(_opp(b * 3 + i, 100 + b, 50), f"k{b}.{i}") for i in range(3)] for b in range(40)]
    await asyncio.gather(*(repo.save_many(batch) for batch in burst))
    assert await repo.count() == 120
    assert len(commits) <= 3, f"{len(commits)} commits for 40 saves"
    got = await repo.get("opp-119")
    assert got is not None and got.hops[1].amount_out == 2**200 + 119 + 50 + 7
    repo.close()


async def test_a_verification_never_overtakes_the_save_of_its_opportunity(url: str) -> None:
    repo = OpportunityRepository.open(url)
    done = Verification(status="orphaned", block_number=101)
    first = asyncio.create_task(repo.save_many([(_opp(1, 100, 50), "a")]))
    await asyncio.sleep(0)  # the first write is in flight; the next save waits in a batch
    second = asyncio.create_task(repo.save_many([(_opp(2, 101, 50), "b")]))
    await asyncio.sleep(0)
    await repo.set_verifications([("opp-2", done)])
    await asyncio.gather(first, second)
    got = await repo.get("opp-2")
    assert got is not None and got.verification == done
    repo.close()


async def test_a_failed_batch_fails_every_caller_in_it(url: str) -> None:
    repo = OpportunityRepository.open(url)
    await repo.save(_opp(1, 100, 50), "a")
    failures = [OperationalError("INSERT", {}, Exception("disk I/O error"))]

    def fail_once(
        _conn: object, _cursor: object, statement: str, params: object, *_: object
    ) -> None:
        if (
            statement.startswith("INSERT INTO opportunities ")
            and "opp-3" in repr(params)
            and failures
        ):
            raise failures.pop()

    event.listen(repo.engine, "before_cursor_execute", fail_once)
    first = asyncio.create_task(repo.save_many([(_opp(2, 100, 50), "b")]))
    await asyncio.sleep(0)  # in flight; the next two join a batch, whose write fails
    joined = [asyncio.create_task(repo.save_many([(_opp(n, 101, 50), "c")])) for n in (3, 4)]
    outcomes = await asyncio.gather(first, *joined, return_exceptions=True)
    assert outcomes[0] is None
    assert all(isinstance(o, OperationalError) for o in outcomes[1:]), outcomes
    assert await repo.get("opp-3") is None  # the whole batch rolled back, and said so
    await repo.save(_opp(3, 102, 50), "c")  # the repository goes on
    assert await repo.count() == 3
    repo.close()


async def test_an_opportunity_saved_again_is_kept_once(url: str) -> None:
    """The same cycle priced again at the same block (a restarted scanner resyncs at a block
    it published for): the first stays, and the others of the batch are saved."""
    repo = OpportunityRepository.open(url)
    await repo.save(_opp(1, 100, 50), "a")
    again = _opp(1, 100, 50).model_copy(update={"latency_ms": 9.0})
    await repo.save_many([(again, "a"), (_opp(2, 100, 60), "b"), (_opp(2, 100, 60), "b")])
    assert await repo.count() == 2
    got = await repo.get("opp-1")
    assert got is not None and got.latency_ms == 3.5
    repo.close()
