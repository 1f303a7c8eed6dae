"""Figures of the running scanner: stats, pools and their freshness, gas forecast vs realised."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends

from titan_scanner.api.deps import runtime
from titan_scanner.api.schemas import (
    GasNow,
    GasPoint,
    GasQuoteCounts,
    IngestLink,
    Latency,
    PaperTradeCounts,
    PolicyCounts,
    PoolView,
    Stats,
)
from titan_scanner.runtime import Runtime

router = APIRouter(prefix="/api", tags=["stats"])

LATENCY_EDGES_MS = (1.0, 2.0, 5.0, 10.0, 15.0, 25.0, 50.0, 100.0, 250.0, 1000.0)


@router.get("/stats", response_model=Stats)
async def stats(rt: Annotated[Runtime, Depends(runtime)]) -> Stats:
    s = rt.scanner
    latency = s.stats.latency()
    paper, realized_profit = await rt.repository.paper_trade_counts()
    quote = s.gas.cached(max(s.gas._cache, default=-1)) if s.gas._cache else None
    return Stats(
        chain_id=rt.settings.chain_id,
        shard=rt.settings.scanner_shard,
        head_block=s.store.head_block,
        pools=len(s.store),
        cycles_indexed=len(s.index),
        updates_processed=s.stats.updates,
        blocks_processed=s.stats.blocks,
        blocks_closed=dict(s.stats.blocks_closed),
        evaluations=s.stats.evaluations,
        evaluations_per_second=s.stats.evaluation_rate.rate(),
        engine_errors=s.stats.engine_errors,
        opportunities_published=s.stats.published,
        rejected_unprofitable=s.stats.rejected_unprofitable,
        rejected_no_gas_price=s.stats.rejected_no_gas_price,
        opportunities_stored=await rt.repository.count(),
        opportunities_pruned=s.stats.history_pruned,
        verification=dict(s.stats.verification),
        paper_trades=PaperTradeCounts(
            landed=paper.get("landed", 0),
            reverted=paper.get("reverted", 0),
            failed=paper.get("failed", 0),
            dropped=0 if s.paper is None else s.paper.dropped,
            realized_profit_wei=realized_profit,
        ),
        policy=PolicyCounts(
            answered=s.policy.answered,
            by_source=dict(s.policy.by_source),
            defaulted=s.policy.defaulted,
            failed_calls=s.policy.failed_calls,
        ),
        gas_quotes=GasQuoteCounts(by_source=dict(s.gas.sources), failed_ml_calls=s.gas.ml_failures),
        latency=Latency(
            count=int(latency["count"] or 0),
            p50_ms=latency["p50_ms"],
            p99_ms=latency["p99_ms"],
            histogram_edges_ms=list(LATENCY_EDGES_MS),
            histogram_counts=s.stats.latency_histogram(LATENCY_EDGES_MS),
        ),
        ingest=IngestLink(
            connected=rt.source.connected,
            connects=rt.source.connects,
            messages=rt.source.messages,
            malformed=rt.source.malformed,
            last_error=rt.source.fatal or rt.source.last_error,
        ),
        gas=None
        if quote is None
        else GasNow(
            block_number=quote.block_number,
            base_fee_wei=str(quote.base_fee_wei),
            priority_fee_wei=str(quote.priority_fee_wei),
            source=quote.source,
            stale=quote.stale,
        ),
        dependencies=rt.health.checks(),
        subscribers=s.publisher.subscribers,
    )


@router.get("/pools", response_model=list[PoolView])
async def pools(rt: Annotated[Runtime, Depends(runtime)]) -> list[PoolView]:
    now = time.time()
    s = rt.scanner
    return [
        PoolView(
            address=address,
            dex=entry.state.dex,
            kind=entry.state.kind,
            token0=entry.state.token0,
            token1=entry.state.token1,
            block_number=entry.block_number,
            log_index=entry.log_index,
            age_seconds=round(now - entry.updated_at, 3),
            cycles=len(s.index.cycles_of(address)),
        )
        for address, entry in s.store.entries().items()
    ]


@router.get("/gas", response_model=list[GasPoint])
async def gas(rt: Annotated[Runtime, Depends(runtime)]) -> list[GasPoint]:
    return [GasPoint(**point) for point in rt.scanner.gas.points]
