"""The opportunity history: save, verify, fetch, list newest first with a cursor and filters.

SQLAlchemy's synchronous API on one worker thread: the event loop never waits on the disk,
and SQLite sees one writer. Rows map to and from `titan_common.models.Opportunity` here only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, Select, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from titan_common.models import Action, Opportunity, OpportunityHop, Verification, parse_address
from titan_scanner.history import paper_trades
from titan_scanner.history.migrate import make_engine, upgrade
from titan_scanner.history.models import HopRow, OpportunityRow, PaperTradeRow, amount_key
from titan_scanner.verify.paper import PaperTrade

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class OpportunityFilter:
    block_from: int | None = None
    block_to: int | None = None
    token: str | None = None  # the base token or any token on the path
    dex: str | None = None  # any hop on this DEX
    min_profit: int | None = None
    status: str | None = None  # verification status


def _to_row(opp: Opportunity, cycle_key: str) -> OpportunityRow:
    row = OpportunityRow(
        id=opp.id,
        chain_id=opp.chain_id,
        block_number=opp.block_number,
        base_token=opp.base_token,
        cycle_key=cycle_key,
        amount_in=str(opp.amount_in),
        amount_out=str(opp.amount_out),
        gross_profit=str(opp.gross_profit),
        gas_units=opp.gas_units,
        gas_price_wei=str(opp.gas_price_wei),
        gas_cost=str(opp.gas_cost),
        net_profit=str(opp.net_profit),
        net_profit_key=amount_key(opp.net_profit),
        action_execute=opp.action.execute,
        action_size_fraction=opp.action.size_fraction,
        action_gas_bid_multiplier=opp.action.gas_bid_multiplier,
        action_source=opp.action.source,
        verification_status=opp.verification.status,
        verification_realized_amount_out=_opt_str(opp.verification.realized_amount_out),
        verification_block_number=opp.verification.block_number,
        detected_at=opp.detected_at,
        latency_ms=opp.latency_ms,
    )
    row.hops = [
        HopRow(
            position=i,
            pool=h.pool,
            dex=h.dex,
            kind=h.kind,
            fee_bps=h.fee_bps,
            fee=h.fee,
            token_in=h.token_in,
            token_out=h.token_out,
            amount_in=str(h.amount_in),
            amount_out=str(h.amount_out),
        )
        for i, h in enumerate(opp.hops)
    ]
    return row


def _opt_str(value: int | None) -> str | None:
    return None if value is None else str(value)


def _from_row(row: OpportunityRow) -> Opportunity:
    return Opportunity.model_validate(
        {
            "id": row.id,
            "chain_id": row.chain_id,
            "block_number": row.block_number,
            "base_token": row.base_token,
            "amount_in": row.amount_in,
            "amount_out": row.amount_out,
            "gross_profit": row.gross_profit,
            "gas_units": row.gas_units,
            "gas_price_wei": row.gas_price_wei,
            "gas_cost": row.gas_cost,
            "net_profit": row.net_profit,
            "hops": [
                OpportunityHop.model_validate(
                    {
                        "pool": h.pool,
                        "dex": h.dex,
                        "kind": h.kind,
                        "fee_bps": h.fee_bps,
                        "fee": h.fee,
                        "token_in": h.token_in,
                        "token_out": h.token_out,
                        "amount_in": h.amount_in,
                        "amount_out": h.amount_out,
                    }
                )
                for h in row.hops
            ],
            "action": Action(
                execute=row.action_execute,
                size_fraction=row.action_size_fraction,
                gas_bid_multiplier=row.action_gas_bid_multiplier,
                source=row.action_source,
            ),
            "verification": Verification.model_validate(
                {
                    "status": row.verification_status,
                    "realized_amount_out": row.verification_realized_amount_out,
                    "block_number": row.verification_block_number,
                }
            ),
            "detected_at": row.detected_at,
            "latency_ms": row.latency_ms,
        }
    )


class OpportunityRepository:
    """History of opportunities; every method is a coroutine run on the history's thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history")

    @classmethod
    def open(cls, url: str) -> OpportunityRepository:
        """Connect, migrate to the newest schema, and return the repository."""
        engine = make_engine(url)
        upgrade(engine)
        return cls(engine)

    def close(self) -> None:
        self._worker.shutdown(wait=True)
        self.engine.dispose()

    async def _run(self, job: Callable[[Session], T]) -> T:
        def work() -> T:
            with self._sessions() as session:
                return job(session)

        return await asyncio.get_running_loop().run_in_executor(self._worker, work)

    async def save(self, opportunity: Opportunity, cycle_key: str) -> None:
        def job(session: Session) -> None:
            session.add(_to_row(opportunity, cycle_key))
            session.commit()

        await self._run(job)

    async def save_many(self, opportunities: list[tuple[Opportunity, str]]) -> None:
        """Several opportunities (with their cycle keys) in one transaction."""

        def job(session: Session) -> None:
            session.add_all([_to_row(opp, key) for opp, key in opportunities])
            session.commit()

        await self._run(job)

    async def set_verification(self, opportunity_id: str, verification: Verification) -> None:
        await self.set_verifications([(opportunity_id, verification)])

    async def set_verifications(self, results: list[tuple[str, Verification]]) -> None:
        """Several verification results in one transaction (a burst of skipped proofs costs
        one commit, not one each)."""

        def job(session: Session) -> None:
            for opportunity_id, verification in results:
                session.execute(
                    update(OpportunityRow)
                    .where(OpportunityRow.id == opportunity_id)
                    .values(
                        verification_status=verification.status,
                        verification_realized_amount_out=_opt_str(verification.realized_amount_out),
                        verification_block_number=verification.block_number,
                    )
                )
            session.commit()

        await self._run(job)

    async def get(self, opportunity_id: str) -> Opportunity | None:
        def job(session: Session) -> Opportunity | None:
            row = session.scalars(
                select(OpportunityRow).where(OpportunityRow.id == opportunity_id)
            ).one_or_none()
            return None if row is None else _from_row(row)

        return await self._run(job)

    async def page(
        self, filters: OpportunityFilter, limit: int = 50, cursor: int | None = None
    ) -> tuple[list[Opportunity], int | None]:
        """A page newest first, and the cursor of the next page (None at the end)."""

        def job(session: Session) -> tuple[list[Opportunity], int | None]:
            query = _filtered(select(OpportunityRow), filters)
            if cursor is not None:
                query = query.where(OpportunityRow.seq < cursor)
            rows = list(session.scalars(query.order_by(OpportunityRow.seq.desc()).limit(limit + 1)))
            more = len(rows) > limit
            rows = rows[:limit]
            return [_from_row(r) for r in rows], (rows[-1].seq if more and rows else None)

        return await self._run(job)

    async def settle_pending(self) -> int:
        """Mark `skipped` every proof still `pending`: left by a scanner that stopped before
        making them (its queue died with it). Returns how many."""

        def job(session: Session) -> int:
            result = session.execute(
                update(OpportunityRow)
                .where(OpportunityRow.verification_status == "pending")
                .values(verification_status="skipped")
            )
            session.commit()
            return int(getattr(result, "rowcount", 0) or 0)

        return await self._run(job)

    async def count(self, filters: OpportunityFilter | None = None) -> int:
        def job(session: Session) -> int:
            query = _filtered(select(func.count()).select_from(OpportunityRow), filters)
            return int(session.scalar(query) or 0)

        return await self._run(job)

    async def status_counts(self) -> dict[str, int]:
        def job(session: Session) -> dict[str, int]:
            query = select(OpportunityRow.verification_status, func.count()).group_by(
                OpportunityRow.verification_status
            )
            return {status: int(n) for status, n in session.execute(query)}

        return await self._run(job)

    # -- paper trades ---------------------------------------------------------------------

    async def save_paper_trade(self, trade: PaperTrade) -> None:
        def job(session: Session) -> None:
            session.add(paper_trades.to_row(trade))
            session.commit()

        await self._run(job)

    async def paper_trades(
        self, limit: int = 50, cursor: int | None = None
    ) -> tuple[list[PaperTrade], int | None]:
        """A page of paper trades newest first, and the cursor of the next (None at the end)."""

        def job(session: Session) -> tuple[list[PaperTrade], int | None]:
            query = select(PaperTradeRow)
            if cursor is not None:
                query = query.where(PaperTradeRow.seq < cursor)
            rows = list(session.scalars(query.order_by(PaperTradeRow.seq.desc()).limit(limit + 1)))
            more = len(rows) > limit
            rows = rows[:limit]
            return [paper_trades.from_row(r) for r in rows], (
                rows[-1].seq if more and rows else None
            )

        return await self._run(job)

    async def paper_trade_counts(self) -> tuple[dict[str, int], int]:
        """Paper trades by status, and the realized profit of those landed (summed here: the
        column is text, exact for 256-bit amounts on every backend)."""

        def job(session: Session) -> tuple[dict[str, int], int]:
            counts = select(PaperTradeRow.status, func.count()).group_by(PaperTradeRow.status)
            profits = select(PaperTradeRow.realized_profit).where(
                PaperTradeRow.status == "landed", PaperTradeRow.realized_profit.is_not(None)
            )
            by_status = {status: int(n) for status, n in session.execute(counts)}
            return by_status, sum(int(p) for p in session.scalars(profits) if p is not None)

        return await self._run(job)


def _filtered(query: Select[Any], filters: OpportunityFilter | None) -> Select[Any]:
    if filters is None:
        return query
    row = OpportunityRow
    if filters.block_from is not None:
        query = query.where(row.block_number >= filters.block_from)
    if filters.block_to is not None:
        query = query.where(row.block_number <= filters.block_to)
    if filters.min_profit is not None:
        query = query.where(row.net_profit_key >= amount_key(filters.min_profit))
    if filters.status is not None:
        query = query.where(row.verification_status == filters.status)
    if filters.dex is not None:
        query = query.where(row.hops.any(HopRow.dex == filters.dex))
    if filters.token is not None:
        token = parse_address(filters.token)
        query = query.where((row.base_token == token) | row.hops.any(HopRow.token_in == token))
    return query
