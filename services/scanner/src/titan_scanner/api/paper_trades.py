"""Paper trades: their outcomes, newest first, paged by cursor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from titan_scanner.api.deps import runtime
from titan_scanner.api.schemas import PaperTradePage
from titan_scanner.runtime import Runtime

router = APIRouter(prefix="/api/paper-trades", tags=["paper trades"])


@router.get("", response_model=PaperTradePage)
async def list_paper_trades(
    rt: Annotated[Runtime, Depends(runtime)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(pattern="^[0-9]{1,18}$")] = None,
) -> PaperTradePage:
    items, next_cursor = await rt.repository.paper_trades(
        limit, None if cursor is None else int(cursor)
    )
    return PaperTradePage(items=items, next=None if next_cursor is None else str(next_cursor))
