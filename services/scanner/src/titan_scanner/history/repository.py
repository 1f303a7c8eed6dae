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

from sqlalchemy import Engine, Select, bindparam, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from titan_common.models import Action, Opportunity, OpportunityHop, Verification, parse_address
from titan_scanner.history import paper_trades, retention
from titan_scanner.history.migrate import make_engine, upgrade
from titan_scanner.history.models import HopRow, OpportunityRow, PaperTradeRow, amount_key
from titan_scanner.verify.paper import PaperTrade

T = TypeVar("T")

_HOP_FIELDS = tuple(OpportunityHop.model_fields)  # also the hop table's columns
_IN_CHUNK = 500  # ids per IN (...) lookup: well under every backend's limit on parameters


@dataclass(frozen=True, slots=True)
class OpportunityFilter:
    block_from: int | None = None
    block_to: int | None = None
    token: str | None = None  # the base token or any token on the path
    dex: str | None = None  # any hop on this DEX
    min_profit: int | None = None
    status: str | None = None  # verification status


def _values(opp: Opportunity, cycle_key: str) -> dict[str, Any]:
    """The opportunity's row as column values (bulk inserts skip the ORM's unit of work)."""
    return {
        "id": opp.id,
        "chain_id": opp.chain_id,
        "block_number": opp.block_number,
        "base_token": opp.base_token,
        "cycle_key": cycle_key,
        "amount_in": str(opp.amount_in),
        "amount_out": str(opp.amount_out),
        "gross_profit": str(opp.gross_profit),
        "gas_units": opp.gas_units,
        "gas_price_wei": str(opp.gas_price_wei),
        "gas_cost": str(opp.gas_cost),
        "net_profit": str(opp.net_profit),
        "net_profit_key": amount_key(opp.net_profit),
        "action_execute": opp.action.execute,
        "action_size_fraction": opp.action.size_fraction,
        "action_gas_bid_multiplier": opp.action.gas_bid_multiplier,
        "action_source": opp.action.source,
        "verification_status": opp.verification.status,
        "verification_realized_amount_out": _opt_str(opp.verification.realized_amount_out),
        "verification_block_number": opp.verification.block_number,
        "detected_at": opp.detected_at,
        "latency_ms": opp.latency_ms,
    }


def _hop_values(seq: int, opp: Opportunity) -> list[dict[str, Any]]:
    """The hops' rows: a hop's columns are the model's fields, by name (amounts as text)."""
    return [
        {"opportunity_seq": seq, "position": i, **h.model_dump(mode="json")}
        for i, h in enumerate(opp.hops)
    ]


def _insert(session: Session, opportunities: list[tuple[Opportunity, str]]) -> None:
    """One transaction: the new rows in one multi-row INSERT that returns their sequence
    numbers (in the order given), then their hops in another.

    An id already stored is the same cycle priced again at the same block of the same branch
    (a restarted scanner resyncs at a block it published for): the first one stays."""
    fresh: dict[str, tuple[Opportunity, str]] = {}
    for opp, key in opportunities:
        fresh.setdefault(opp.id, (opp, key))
    ids = list(fresh)
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        for stored in session.scalars(
            select(OpportunityRow.id).where(OpportunityRow.id.in_(chunk))
        ):
            del fresh[stored]
    if fresh:
        rows = list(fresh.values())
        seqs = session.scalars(
            insert(OpportunityRow).returning(OpportunityRow.seq, sort_by_parameter_order=True),
            [_values(opp, key) for opp, key in rows],
        ).all()
        hops = [
            hop for seq, (opp, _) in zip(seqs, rows, strict=True) for hop in _hop_values(seq, opp)
        ]
        if hops:
            session.execute(insert(HopRow), hops)
    session.commit()


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
                OpportunityHop.model_validate({f: getattr(h, f) for f in _HOP_FIELDS})
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


# One statement for many rows (executemany): a burst of proofs or orphans costs one round.
_SET_VERIFICATION = (
    update(OpportunityRow)
    .where(OpportunityRow.id == bindparam("opportunity_id"))
    .values(
        verification_status=bindparam("status"),
        verification_realized_amount_out=bindparam("realized"),
        verification_block_number=bindparam("block"),
    )
)


def _verification_values(opportunity_id: str, verification: Verification) -> dict[str, Any]:
    return {
        "opportunity_id": opportunity_id,
        "status": verification.status,
        "realized": _opt_str(verification.realized_amount_out),
        "block": verification.block_number,
    }


class _Batch:
    """Opportunities waiting for one transaction, and the callers' shared outcome."""

    def __init__(self, items: list[tuple[Opportunity, str]]) -> None:
        self.items = items
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def fail(self, exc: BaseException) -> None:
        if isinstance(exc, asyncio.CancelledError):
            self.done.cancel()
        else:
            self.done.set_exception(exc)
            self.done.exception()  # the joined callers raise it; alone, it was raised already


class OpportunityRepository:
    """History of opportunities; every method is a coroutine run on the history's thread, in
    turns (`_run`); the opportunities of a burst are inserted together (`save_many`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history")
        self._turn = asyncio.Lock()
        self._open_batch: _Batch | None = None

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
        """Run `job` on the history's thread when its turn comes: jobs take turns in the order
        asked, so a read sees every opportunity published before it, and a verification never
        overtakes the insert of its opportunity waiting in an open batch."""
        async with self._turn:
            return await self._on_thread(job)

    async def _on_thread(self, job: Callable[[Session], T]) -> T:
        def work() -> T:
            with self._sessions() as session:
                return job(session)

        return await asyncio.get_running_loop().run_in_executor(self._worker, work)

    async def save(self, opportunity: Opportunity, cycle_key: str) -> None:
        await self.save_many([(opportunity, cycle_key)])

    async def save_many(self, opportunities: list[tuple[Opportunity, str]]) -> None:
        """Save opportunities (with their cycle keys); returns once they are committed.

        Group commit: calls made while a write is in flight join one batch, written in one
        transaction when that write ends. Under a burst of blocks the history then commits
        once per write, not once per block, and cannot fall further and further behind."""
        batch = self._open_batch
        if batch is not None:
            batch.items.extend(opportunities)
            await asyncio.shield(batch.done)
            return
        batch = self._open_batch = _Batch(list(opportunities))
        try:
            async with self._turn:
                self._open_batch = None  # later calls start the next batch
                await self._on_thread(lambda session: _insert(session, batch.items))
        except BaseException as exc:
            if self._open_batch is batch:
                self._open_batch = None
            batch.fail(exc)
            raise
        batch.done.set_result(None)

    async def set_verification(self, opportunity_id: str, verification: Verification) -> None:
        await self.set_verifications([(opportunity_id, verification)])

    async def set_verifications(self, results: list[tuple[str, Verification]]) -> None:
        """Several verification results in one transaction (a burst of skipped proofs costs
        one commit, not one each)."""

        def job(session: Session) -> None:
            session.connection().execute(
                _SET_VERIFICATION, [_verification_values(i, v) for i, v in results]
            )
            session.commit()

        if results:
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

    async def prune(self, keep: int, chunk: int = 1_000) -> int:
        """Delete all but the newest `keep` opportunities (`retention`), `chunk` a turn: saves
        go on between them. Returns how many went."""
        if keep < 1:
            raise ValueError(f"keep at least one opportunity, not {keep}")
        floor = await self._run(lambda s: retention.oldest_kept(s, keep))
        total = 0
        while floor is not None and (
            gone := await self._run(lambda s: retention.delete_chunk(s, floor, chunk))
        ):
            total += gone
        return total

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
