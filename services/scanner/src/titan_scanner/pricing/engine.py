"""The engine batch: cycles with their pools' exact states in, optimal sizes and amounts out.

One request per block (split at the engine's batch limit, and in halves when the body is past
the engine's size limit: pools with many ticks make a big batch megabytes); the engine answers
each cycle on its own, so one bad cycle never fails the others. This module is the only place
that knows the shape of `POST /api/routes/evaluate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter
from typing_extensions import TypedDict

from titan_common.clients import EngineClient, ServiceError
from titan_common.models import BigInt, SignedBigInt
from titan_scanner.cycles.index import Cycle


@dataclass(frozen=True, slots=True)
class CycleQuote:
    """The engine's optimum for one cycle; every number exact."""

    amount_in: int
    amount_out: int
    gross_profit: int
    hops: tuple[tuple[int, int], ...]  # (amount_in, amount_out) per hop


@dataclass(frozen=True, slots=True)
class CycleFailure:
    code: str
    message: str


EngineAnswer = CycleQuote | CycleFailure


def cycle_request(cycle: Cycle, wire_state: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": cycle.key,
        "hops": [
            {"pool": wire_state(hop.pool), "zero_for_one": hop.zero_for_one} for hop in cycle.hops
        ],
    }


class _HopAmounts(TypedDict):
    amount_in: BigInt
    amount_out: BigInt


class _Quote(TypedDict):
    amount_in: BigInt
    amount_out: BigInt
    gross_profit: SignedBigInt
    hops: list[_HopAmounts]


# One validation per cycle inside pydantic-core: a block's batch can hold hundreds of cycles,
# each with (3 + 2 * hops) big numbers, and a Python call per number was twice the time.
_QUOTE: TypeAdapter[_Quote] = TypeAdapter(_Quote)


def parse_answer(item: Any) -> EngineAnswer:
    """One cycle's answer: a quote, or the engine's error for that cycle; a ValueError when it
    is neither."""
    if not isinstance(item, dict):
        raise ValueError(f"a cycle's answer is an object, not {type(item).__name__}")
    error = item.get("error")
    if error:
        if isinstance(error, dict):
            return CycleFailure(str(error.get("code", "error")), str(error.get("message", "")))
        return CycleFailure("error", str(error))
    quote = _QUOTE.validate_python(item)
    return CycleQuote(
        amount_in=quote["amount_in"],
        amount_out=quote["amount_out"],
        gross_profit=quote["gross_profit"],
        hops=tuple((hop["amount_in"], hop["amount_out"]) for hop in quote["hops"]),
    )


def _answers(body: dict[str, Any], count: int) -> list[EngineAnswer]:
    items = body.get("results")
    if not isinstance(items, list) or len(items) != count:
        raise ValueError(f"the engine answered {type(items).__name__} for {count} cycles")
    answers: list[EngineAnswer] = []
    for item in items:
        try:
            answers.append(parse_answer(item))
        except ValueError as exc:  # pydantic's ValidationError too
            answers.append(CycleFailure("unexpected_answer", str(exc)))
    return answers


async def evaluate(
    client: EngineClient,
    cycles: Sequence[Cycle],
    wire_state: Callable[[str], dict[str, Any]],
    batch_max: int,
) -> list[EngineAnswer]:
    """Evaluate every cycle, in batches of at most `batch_max`; raises if the engine is down."""
    answers: list[EngineAnswer] = []
    for start in range(0, len(cycles), batch_max):
        answers.extend(await _evaluate_chunk(client, cycles[start : start + batch_max], wire_state))
    return answers


async def _evaluate_chunk(
    client: EngineClient, chunk: Sequence[Cycle], wire_state: Callable[[str], dict[str, Any]]
) -> list[EngineAnswer]:
    body = {"cycles": [cycle_request(c, wire_state) for c in chunk]}
    try:
        return _answers(await client.evaluate_routes(body), len(chunk))
    except ServiceError as exc:
        if exc.status != 413:
            raise
        if len(chunk) == 1:  # one cycle past the limit: its own failure, not the block's
            return [CycleFailure(exc.code, exc.message)]
    half = len(chunk) // 2
    return [
        *await _evaluate_chunk(client, chunk[:half], wire_state),
        *await _evaluate_chunk(client, chunk[half:], wire_state),
    ]
