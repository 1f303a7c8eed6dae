"""The decision stage's arithmetic: from the engine's quote to a priced opportunity.

Integers only. A draft carries gross profit and the gas cost at the forecast price; the
final opportunity applies the policy's bid and is dropped unless its net profit is
strictly positive and at least `MIN_PROFIT`. What does not depend on the policy's action
(the hops, the id) is made apart (`prepare`), while the policy is asked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from titan_common.models import Action, Opportunity, OpportunityHop, Verification
from titan_scanner.cycles.index import Cycle
from titan_scanner.graph.tokens import TokenGraph
from titan_scanner.pipeline.coalesce import BlockJob
from titan_scanner.pipeline.state import PoolState
from titan_scanner.pricing.engine import CycleQuote
from titan_scanner.pricing.gas import GasQuote, GasUnits, apply_bid, native_to_token
from titan_scanner.pricing.profit import net_profit, publishable


@dataclass(frozen=True, slots=True)
class Draft:
    cycle: Cycle
    quote: CycleQuote
    gas_units: int
    gas_price_wei: int
    gas_cost: int  # in the base token
    net_profit: int


@dataclass(frozen=True, slots=True)
class GasContext:
    graph: TokenGraph
    converters: Mapping[str, PoolState]  # native/base pools' states at the block
    native_token: str
    units: GasUnits
    min_profit: int


def gas_cost(units: int, price_wei: int, base_token: str, ctx: GasContext) -> int | None:
    return native_to_token(
        units * price_wei, ctx.native_token, base_token, ctx.graph, ctx.converters
    )


def draft(cycle: Cycle, quote: CycleQuote, gas: GasQuote, ctx: GasContext) -> Draft | None:
    """The opportunity before the policy: None unless it clears gas at the forecast price."""
    if quote.gross_profit <= 0 or len(quote.hops) != len(cycle.hops):
        return None
    units = ctx.units.of(ctx.graph[hop.pool].kind for hop in cycle.hops)
    cost = gas_cost(units, gas.price_wei, cycle.base_token, ctx)
    if cost is None:
        return None
    net = net_profit(quote.gross_profit, cost)
    if not publishable(net, ctx.min_profit):
        return None
    return Draft(cycle, quote, units, gas.price_wei, cost, net)


def opportunity_id(chain_id: int, block_number: int, block_hash: str | None, cycle_key: str) -> str:
    """The same cycle at the same block of the same branch has the same id (a resync that
    prices it again is not a new opportunity); at a block number a reorg replaced, the new
    branch's is another (its hash differs)."""
    digest = hashlib.blake2b(f"{block_hash or ''}:{cycle_key}".encode(), digest_size=8)
    return f"{chain_id}-{block_number}-{digest.hexdigest()}"


@dataclass(frozen=True, slots=True)
class Prepared:
    """The parts of an opportunity that the policy's action does not change."""

    id: str
    hops: list[OpportunityHop]


def prepare(d: Draft, ctx: GasContext, chain_id: int, job: BlockJob) -> Prepared:
    hops = []
    for hop, (amount_in, amount_out) in zip(d.cycle.hops, d.quote.hops, strict=True):
        info = ctx.graph[hop.pool]
        hops.append(
            OpportunityHop(
                pool=hop.pool,
                dex=info.dex,
                kind=info.kind,
                fee_bps=info.fee_ppm // 100 if info.kind == "v2" else None,
                fee=info.fee_ppm if info.kind == "v3" else None,
                token_in=hop.token_in,
                token_out=hop.token_out,
                amount_in=amount_in,
                amount_out=amount_out,
            )
        )
    return Prepared(opportunity_id(chain_id, job.block_number, job.block_hash, d.cycle.key), hops)


def finalise(
    d: Draft,
    prepared: Prepared,
    action: Action,
    ctx: GasContext,
    chain_id: int,
    job: BlockJob,
    detected_at: float,
    latency_ms: float,
) -> Opportunity | None:
    """The published opportunity at the policy's gas bid; None if the bid eats the profit."""
    price = apply_bid(d.gas_price_wei, action.gas_bid_multiplier)
    cost = gas_cost(d.gas_units, price, d.cycle.base_token, ctx)
    if cost is None:
        return None
    net = net_profit(d.quote.gross_profit, cost)
    if not publishable(net, ctx.min_profit):
        return None
    return Opportunity(
        id=prepared.id,
        chain_id=chain_id,
        block_number=job.block_number,
        base_token=d.cycle.base_token,
        amount_in=d.quote.amount_in,
        amount_out=d.quote.amount_out,
        gross_profit=d.quote.gross_profit,
        gas_units=d.gas_units,
        gas_price_wei=price,
        gas_cost=cost,
        net_profit=net,
        hops=prepared.hops,
        action=action,
        verification=Verification(status="pending"),
        detected_at=detected_at,
        latency_ms=latency_ms,
    )


def policy_state(d: Draft, gas: GasQuote) -> dict[str, object]:
    """What the policy sees of an opportunity (decimal strings for the big numbers)."""
    return {
        "spread_bps": (d.quote.gross_profit * 10_000) // max(d.quote.amount_in, 1),
        "amount_in": str(d.quote.amount_in),
        "gross_profit": str(d.quote.gross_profit),
        "net_profit": str(d.net_profit),
        "gas_cost": str(d.gas_cost),
        "gas_price_wei": str(gas.price_wei),
        "hops": len(d.cycle.hops),
    }
