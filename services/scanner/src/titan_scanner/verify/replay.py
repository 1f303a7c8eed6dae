"""Replays of proven opportunities, the Q-learning agent's market: each trade at a part of its
size, at its block and one block late, by `eth_call` of the executor.

The agent (ML service) chooses a size fraction and learns what a trade that lands a block late
pays. Both are measured here on the chain that found the opportunity: for each size fraction,
the executor's amount out at the opportunity's block (landing first) and at the block after
(landing after that block's swaps). A call that reverts is an empty cell: the trade would
revert and pay its gas for nothing. The gas price is the one the scanner priced it at, before
the policy's bid (as the policy saw it).

Only opportunities proven `verified` are replayed, and a replay is kept only if the full size
at its block pays exactly the proven amount again: a history can outlive its chain (a devnet
restarted from block 0 reuses the block numbers), and then the calls answer for another chain;
and a node keeps old blocks' state for a while only (anvil here: `--max-persisted-states`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx

from titan_common.models import Opportunity
from titan_scanner.chain import ChainReader
from titan_scanner.pages import paged_items
from titan_scanner.pricing.gas import without_bid
from titan_scanner.verify.csv_file import merge_rows
from titan_scanner.verify.executor import executor_amount_out, trade_size

# The agent's size fractions (titan_ml.rl.state.SIZE_FRACTIONS).
FRACTIONS: tuple[float, ...] = (0.25, 0.5, 1.0)
CONCURRENT = 8  # opportunities replayed at once (6 calls each)
PAGE = 500


def fraction_label(fraction: float) -> str:
    return f"{fraction:g}"


COLUMNS = [
    "opportunity_id",
    "detected_at",
    "block_number",
    "amount_in",
    "gross_profit",
    "gas_units",
    "gas_price_wei",
    *(
        f"{part}_{fraction_label(f)}"
        for f in FRACTIONS
        for part in ("size", "out_at_block", "out_late")
    ),
]


@dataclass(frozen=True)
class Replay:
    opportunity_id: str
    detected_at: float
    block_number: int
    amount_in: int
    gross_profit: int
    gas_units: int
    gas_price_wei: int  # the scanner's, at a 1.0 bid
    sizes: tuple[int, ...]  # the input at each fraction
    out_at_block: tuple[int | None, ...]  # None: the call reverted
    out_late: tuple[int | None, ...]

    def row(self) -> dict[str, str]:
        row = {
            "opportunity_id": self.opportunity_id,
            "detected_at": f"{self.detected_at:.6f}",
            "block_number": str(self.block_number),
            "amount_in": str(self.amount_in),
            "gross_profit": str(self.gross_profit),
            "gas_units": str(self.gas_units),
            "gas_price_wei": str(self.gas_price_wei),
        }
        for i, f in enumerate(FRACTIONS):
            label = fraction_label(f)
            row[f"size_{label}"] = str(self.sizes[i])
            for part, outs in (("out_at_block", self.out_at_block), ("out_late", self.out_late)):
                row[f"{part}_{label}"] = "" if outs[i] is None else str(outs[i])
        return row


class Replayer:
    """The calls of a replay, on one chain, from the verifier's account."""

    def __init__(self, chain: ChainReader, executor: str, sender: str) -> None:
        self.chain, self.executor, self.sender = chain, executor, sender

    async def amount_out(self, opportunity: Opportunity, amount_in: int, block: int) -> int | None:
        return await executor_amount_out(
            self.chain, self.executor, self.sender, opportunity, amount_in, block
        )

    async def replay(self, opportunity: Opportunity) -> Replay | None:
        """The replay of a verified opportunity; None when its chain is not this one."""
        block = opportunity.block_number
        sizes = tuple(trade_size(opportunity.amount_in, f) for f in FRACTIONS)
        calls = [self.amount_out(opportunity, s, block) for s in sizes]
        calls += [self.amount_out(opportunity, s, block + 1) for s in sizes]
        outs = await asyncio.gather(*calls)
        at_block, late = tuple(outs[: len(sizes)]), tuple(outs[len(sizes) :])
        if at_block[-1] != opportunity.amount_out:
            return None
        return Replay(
            opportunity.id,
            opportunity.detected_at,
            block,
            opportunity.amount_in,
            opportunity.gross_profit,
            opportunity.gas_units,
            without_bid(opportunity.gas_price_wei, opportunity.action.gas_bid_multiplier),
            sizes,
            at_block,
            late,
        )


async def verified_opportunities(
    client: httpx.AsyncClient, base_token: str, block_from: int, block_to: int, limit: int
) -> list[Opportunity]:
    """The scanner's newest `limit` verified opportunities in the block range with `base_token`,
    newest first (pages past them are not asked for)."""
    params: dict[str, str | int] = {
        "status": "verified",
        "token": base_token,
        "block_from": block_from,
        "block_to": block_to,
    }
    found: list[Opportunity] = []
    async for item in paged_items(client, "/api/opportunities", params, min(PAGE, limit)):
        opportunity = Opportunity.model_validate(item)
        if opportunity.base_token == base_token:
            found.append(opportunity)
            if len(found) == limit:
                break
    return found


@dataclass
class ReplayCounts:
    replayed: int = 0
    unmatched: int = 0  # the full size at the block did not pay the proven amount (again)


async def replay_all(
    replayer: Replayer,
    opportunities: list[Opportunity],
    advance: Callable[[], None] = lambda: None,
) -> tuple[list[Replay], ReplayCounts]:
    """Each opportunity's replay, `CONCURRENT` at a time."""
    replays: list[Replay] = []
    counts = ReplayCounts()
    for start in range(0, len(opportunities), CONCURRENT):
        batch = opportunities[start : start + CONCURRENT]
        for result in await asyncio.gather(*(replayer.replay(o) for o in batch)):
            if result is None:
                counts.unmatched += 1
            else:
                replays.append(result)
                counts.replayed += 1
            advance()
    return replays, counts


def write_replays(path: Path, replays: Iterable[Replay]) -> int:
    """Merge into the file at `path` (by opportunity id; oldest first); returns its rows."""
    return merge_rows(
        path,
        COLUMNS,
        (r.row() for r in replays),
        key=lambda row: row["opportunity_id"],
        order=lambda row: float(row["detected_at"]),
    )
