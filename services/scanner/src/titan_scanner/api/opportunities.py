"""Opportunities: the history, newest first, paged by cursor and filtered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from titan_common.errors import InvalidInputError, NotFoundError
from titan_common.models import Dex, Opportunity, parse_address, parse_uint256
from titan_scanner.api.deps import runtime
from titan_scanner.api.schemas import OpportunityPage
from titan_scanner.history import OpportunityFilter
from titan_scanner.runtime import Runtime

router = APIRouter(prefix="/api/opportunities", tags=["opportunities"])

# The database's integers (SQLite INTEGER, PostgreSQL BIGINT) stop here; a block bound above
# would fail in the driver.
MAX_BLOCK = 2**63 - 1

Status = Annotated[
    str | None, Query(pattern="^(verified|mismatch|pending|skipped|failed|orphaned)$")
]


@router.get("", response_model=OpportunityPage)
async def list_opportunities(
    rt: Annotated[Runtime, Depends(runtime)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(pattern="^[0-9]{1,18}$")] = None,
    block_from: Annotated[int | None, Query(ge=0, le=MAX_BLOCK)] = None,
    block_to: Annotated[int | None, Query(ge=0, le=MAX_BLOCK)] = None,
    token: Annotated[str | None, Query(description="base token or any token on the path")] = None,
    dex: Annotated[Dex | None, Query()] = None,
    min_profit: Annotated[str | None, Query(description="net profit, decimal string")] = None,
    status: Status = None,
) -> OpportunityPage:
    try:
        token = None if token is None else parse_address(token)
    except ValueError as exc:
        raise InvalidInputError(str(exc), {"field": "token"}, code="invalid_address") from exc
    try:
        floor = None if min_profit is None else parse_uint256(min_profit)
    except ValueError as exc:
        raise InvalidInputError(str(exc), {"field": "min_profit"}) from exc
    filters = OpportunityFilter(block_from, block_to, token, dex, floor, status)
    items, next_cursor = await rt.repository.page(
        filters, limit, None if cursor is None else int(cursor)
    )
    return OpportunityPage(items=items, next=None if next_cursor is None else str(next_cursor))


@router.get("/{opportunity_id}", response_model=Opportunity)
async def get_opportunity(
    opportunity_id: str, rt: Annotated[Runtime, Depends(runtime)]
) -> Opportunity:
    found = await rt.repository.get(opportunity_id)
    if found is None:
        raise NotFoundError(f"no opportunity {opportunity_id}", {"id": opportunity_id})
    return found
