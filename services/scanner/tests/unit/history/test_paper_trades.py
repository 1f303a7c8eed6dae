"""Paper trades in the history: the table added to an existing database, round trips exact
past 64 bits, pages newest first, counts by status with the landed profit summed; rows of an
older version keep their trades as traded (whole, at no known bid)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy import inspect

from titan_scanner.history import OpportunityRepository
from titan_scanner.history.migrate import alembic_config, make_engine
from titan_scanner.verify.paper import PaperStatus, PaperTrade

BIG = 2**200


def _trade(n: int, status: PaperStatus, profit: int | None = None) -> PaperTrade:
    landed = status != "failed"
    return PaperTrade(
        opportunity_id=f"31337-{n}-x",
        chain_id=31337,
        account="0x" + "f" * 40,
        tx_hash="0x" + f"{n:02x}" * 32 if landed else None,
        block_found=n,
        block_landed=n + 1 if landed else None,
        status=status,
        size_fraction=0.5 if n % 2 else 1.0,
        gas_bid_multiplier=1.25,
        gas_price_bid_wei=2**70 + n,
        amount_in=BIG,
        predicted_amount_out=None if n == 3 else BIG + 10,
        realized_amount_out=None if profit is None else BIG + profit,
        realized_profit=profit,
        gas_used=150_000 if landed else None,
        effective_gas_price_wei=2**70 if landed else None,
        gas_cost_wei=150_000 * 2**70 if landed else None,
        error=None if landed else "not sent: nonce too low",
        sent_at=1000.0 + n,
    )


async def test_paper_trades_round_trip_and_page_newest_first(tmp_path: Path) -> None:
    repo = OpportunityRepository.open(f"sqlite:///{tmp_path}/h.db")
    try:
        trades = [_trade(1, "landed", 7), _trade(2, "reverted"), _trade(3, "failed")]
        trades.append(_trade(4, "landed", BIG))
        for trade in trades:
            await repo.save_paper_trade(trade)
        page, cursor = await repo.paper_trades(limit=3)
        assert page == trades[::-1][:3] and cursor is not None
        rest, end = await repo.paper_trades(limit=3, cursor=int(cursor))
        assert rest == trades[:1] and end is None
        counts, profit = await repo.paper_trade_counts()
        assert counts == {"landed": 2, "reverted": 1, "failed": 1}
        assert profit == BIG + 7
    finally:
        repo.close()


async def test_an_empty_history_counts_nothing(tmp_path: Path) -> None:
    repo = OpportunityRepository.open(f"sqlite:///{tmp_path}/h.db")
    try:
        assert await repo.paper_trade_counts() == ({}, 0)
        assert await repo.paper_trades() == ([], None)
    finally:
        repo.close()


def _database_at(url: str, revision: str, *statements: str) -> None:
    """A history database migrated up to `revision` only, then `statements` run in it."""
    engine = make_engine(url)
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        for statement in statements:
            connection.execute(sa.text(statement))
    engine.dispose()


def test_a_database_at_the_first_revision_gets_the_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    _database_at(url, "0001")
    assert "paper_trades" not in inspect(make_engine(url)).get_table_names()
    repo = OpportunityRepository.open(url)
    try:
        assert "paper_trades" in inspect(repo.engine).get_table_names()
    finally:
        repo.close()


async def test_trades_of_the_previous_revision_read_as_whole_trades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    columns = "opportunity_id, chain_id, account, block_found, status, amount_in, "
    columns += "predicted_amount_out, sent_at, error"
    _database_at(
        url,
        "0003",
        *(
            f"INSERT INTO paper_trades ({columns}) VALUES ('31337-{n}-x', 31337, '0x{'f' * 40}', "
            f"{n}, 'failed', '{BIG}', '{BIG + 1}', 2.0, '{error}')"
            for n, error in ((5, "not sent: nonce too low"), (6, "not sent: queue full"))
        ),
    )
    repo = OpportunityRepository.open(url)
    try:
        [old], _ = await repo.paper_trades()  # the one never sent from a full queue is gone
        assert (old.size_fraction, old.gas_bid_multiplier, old.gas_price_bid_wei) == (1.0, 1.0, 0)
        assert (old.amount_in, old.predicted_amount_out) == (BIG, BIG + 1)
        await repo.save_paper_trade(_trade(3, "failed"))  # no forecast for its part: NULL
        newest, _ = await repo.paper_trades(limit=1)
        assert newest[0].predicted_amount_out is None
    finally:
        repo.close()
