"""Response shapes of ingest's API (for the OpenAPI document; the hot paths write JSON
directly in exactly these shapes, and the tests hold them to it)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from titan_common.models import PoolStateV2, PoolStateV3


class PoolViewV2(PoolStateV2):
    block_number: int = Field(ge=0, description="block of the last event applied")
    log_index: int = Field(ge=-1, description="its log index; -1: read by a snapshot")


class PoolViewV3(PoolStateV3):
    block_number: int = Field(ge=0, description="block of the last event applied")
    log_index: int = Field(ge=-1, description="its log index; -1: read by a snapshot")


PoolView = Annotated[PoolViewV2 | PoolViewV3, Field(discriminator="kind")]


class PoolList(BaseModel):
    chain_id: int
    block_number: int = Field(description="the highest block applied")
    count: int
    pools: list[PoolView]


class Stats(BaseModel):
    chain_id: int
    mode: str
    connected: bool
    endpoint: str | None
    pools: int
    block_number: int
    complete_block: int
    node_head: int
    lag_blocks: int
    lag_ms: float
    events_applied: int
    events_stale: int
    events_per_second: float
    malformed_messages: int
    reconnects: int
    reorgs: int
    reorg_max_depth: int
    snapshots: int
    snapshot_seconds: float | None
    backfilled_blocks: int
    catch_ups: int
    rpc_failovers: int
    ws_clients: int
    ws_clients_dropped: int
    updates_published: int
    publish_latency_ms: dict[str, float | None] = Field(
        description="log arrival to update queued for WS clients: p50, p99, max (last 10,000)"
    )
    last_error: str | None
