"""Response bodies of the scanner's own routes (the opportunity itself is shared)."""

from __future__ import annotations

from pydantic import BaseModel

from titan_common.models import Opportunity, SignedBigInt
from titan_scanner.verify.paper import PaperTrade


class OpportunityPage(BaseModel):
    items: list[Opportunity]
    next: str | None  # pass as `cursor` for the next page; null on the last


class PaperTradePage(BaseModel):
    items: list[PaperTrade]
    next: str | None  # pass as `cursor` for the next page; null on the last


class PaperTradeCounts(BaseModel):
    landed: int
    reverted: int
    failed: int
    # offered, then given way (to a newer block's trades, or in a full queue): never sent,
    # not in the history (since the scanner started)
    dropped: int
    realized_profit_wei: SignedBigInt  # of the landed trades, in the base token's unit


class PolicyCounts(BaseModel):
    answered: int  # opportunities whose action the ML service decided
    # of those, by who decided inside ML: "rl_agent", or "threshold_rule" for a state the
    # agent never trained in
    by_source: dict[str, int]
    defaulted: int  # given the default action (ML down, or its call failed)
    failed_calls: int  # calls to ML that failed or timed out


class GasQuoteCounts(BaseModel):
    by_source: dict[str, int]  # blocks quoted: "ml", "fee_history", "ml_stale"
    failed_ml_calls: int  # forecast calls to ML that failed or timed out


class Latency(BaseModel):
    count: int
    p50_ms: float | None
    p99_ms: float | None
    histogram_edges_ms: list[float]
    histogram_counts: list[int]


class IngestLink(BaseModel):
    connected: bool
    connects: int
    messages: int
    malformed: int
    last_error: str | None


class GasNow(BaseModel):
    block_number: int
    base_fee_wei: str
    priority_fee_wei: str
    source: str
    stale: bool


class Stats(BaseModel):
    chain_id: int
    shard: str
    head_block: int
    pools: int
    cycles_indexed: int
    updates_processed: int
    blocks_processed: int
    # Block batches closed by ingest's marker, a newer block's update, or the fallback timeout.
    blocks_closed: dict[str, int]
    evaluations: int
    evaluations_per_second: float
    engine_errors: int
    opportunities_published: int
    rejected_unprofitable: int
    rejected_no_gas_price: int
    opportunities_stored: int
    # deleted from the history since start, past SCANNER_HISTORY_MAX_OPPORTUNITIES
    opportunities_pruned: int
    verification: dict[str, int]
    paper_trades: PaperTradeCounts
    policy: PolicyCounts
    gas_quotes: GasQuoteCounts
    latency: Latency
    ingest: IngestLink
    gas: GasNow | None
    dependencies: dict[str, str]
    subscribers: int


class PoolView(BaseModel):
    address: str
    dex: str
    kind: str
    token0: str
    token1: str
    block_number: int
    log_index: int
    age_seconds: float
    cycles: int


class GasPoint(BaseModel):
    block_number: int
    forecast_base_fee_wei: str
    gas_price_wei: str
    source: str
    realized_base_fee_wei: str | None
