"""`GET /api/pools`, `GET /api/pools/{address}`."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response

from titan_common.errors import InvalidInputError, NotFoundError
from titan_common.models import IngestPool, IngestPoolList, parse_address
from titan_ingest.api.filters import parse_filter
from titan_ingest.state.pools import PoolEntry
from titan_ingest.sync.pipeline import IngestPipeline

router = APIRouter(prefix="/api", tags=["pools"])

FilterParam = Annotated[list[str] | None, Query()]


def pool_view(entry: PoolEntry) -> dict[str, Any]:
    return {**entry.state_wire(), "block_number": entry.block_number, "log_index": entry.log_index}


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/pools", response_model=IngestPoolList)
async def list_pools(
    request: Request,
    pool: FilterParam = None,
    token: FilterParam = None,
    dex: FilterParam = None,
) -> Response:
    """Every pool's exact state at the end of the block of its last event."""
    pipeline: IngestPipeline = request.app.state.pipeline
    wanted = parse_filter(pool, token, dex)
    pools = [pool_view(e) for e in pipeline.store.pools.values() if wanted.matches(e.meta)]
    return _json(
        {
            "chain_id": pipeline.chain.chain_id,
            "block_number": pipeline.store.head,
            "count": len(pools),
            "pools": pools,
        }
    )


@router.get(
    "/pools/{address}",
    response_model=IngestPool,
    responses={404: {"description": "unknown pool"}, 422: {"description": "malformed address"}},
)
async def get_pool(request: Request, address: str) -> Response:
    """One pool, with the block number and log index of the last event applied."""
    try:
        checksummed = parse_address(address)
    except ValueError:
        raise InvalidInputError(
            f"not an address: {address!r}", {"address": address}, code="invalid_address"
        ) from None
    pipeline: IngestPipeline = request.app.state.pipeline
    entry = pipeline.store.pools.get(checksummed)
    if entry is None:
        raise NotFoundError(f"unknown pool {checksummed}", {"address": checksummed})
    return _json(pool_view(entry))
