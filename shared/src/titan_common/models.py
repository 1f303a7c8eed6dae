"""Titan's wire models, defined once; the engine mirrors them in `api/types.rs`.

Big integers (wei, reserves, liquidity, sqrtPriceX96) travel as decimal strings and live as
Python ints; they never pass through a float. Addresses are accepted in any case and
written EIP-55 checksummed. Every message carrying pool state carries its version: the
`block_number` and `log_index` of the last event applied.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any, Literal

from eth_utils.address import to_checksum_address
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetPydanticSchema,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import core_schema

UINT256_MAX = 2**256 - 1
INT256_MIN = -(2**255)
INT256_MAX = 2**255 - 1

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def _decimal_int(low: int, high: int, digits: str, what: str) -> GetPydanticSchema:
    """An int in [low, high], given as an integer (never a bool or a float) or as a string of
    ASCII `digits`, checked inside pydantic-core: a Python validator per value cost ~1 µs, and
    a V3 pool update carries one for every initialized tick."""

    def schema(_source: Any, _handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        number = core_schema.int_schema(ge=low, le=high, strict=True)
        text = core_schema.chain_schema(
            [
                core_schema.str_schema(pattern=f"^{digits}$", strict=True),
                core_schema.int_schema(ge=low, le=high),  # lax: the digits to an int, exactly
            ]
        )
        return core_schema.union_schema(
            [number, text],
            mode="left_to_right",
            custom_error_type="big_int",
            custom_error_message=f"must be an integer in [{what}], as a decimal string",
        )

    return GetPydanticSchema(schema)


BigInt = Annotated[
    int,
    _decimal_int(0, UINT256_MAX, "[0-9]{1,78}", "0, 2^256-1"),
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{1,78}$"}),
]
SignedBigInt = Annotated[
    int,
    _decimal_int(INT256_MIN, INT256_MAX, "-?[0-9]{1,78}", "-2^255, 2^255-1"),
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": "^-?[0-9]{1,78}$"}),
]
_UINT256: TypeAdapter[int] = TypeAdapter(BigInt)
_INT256: TypeAdapter[int] = TypeAdapter(SignedBigInt)


def _parse(adapter: TypeAdapter[int], value: Any) -> int:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"]) from None


def parse_uint256(value: Any) -> int:
    """A decimal string (or int) in [0, 2^256-1]; anything else is a ValueError."""
    return _parse(_UINT256, value)


def parse_int256(value: Any) -> int:
    """A signed decimal string (or int) in [-2^255, 2^255-1]."""
    return _parse(_INT256, value)


def parse_address(value: Any) -> str:
    """A 0x-prefixed 20-byte hex address in any case, returned checksummed."""
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise ValueError("must be a 0x-prefixed 20-byte hex address")
    return _checksummed(value)


@functools.lru_cache(maxsize=65_536)
def _checksummed(value: str) -> str:
    # A keccak per call (~20 µs): an opportunity names up to ten addresses, and the same few
    # thousand pools and tokens come back block after block.
    return str(to_checksum_address(value))


Address = Annotated[
    str,
    BeforeValidator(parse_address),
    WithJsonSchema({"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}),
]
Dex = Literal["uniswap_v2", "sushiswap", "quickswap", "uniswap_v3"]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tick(WireModel):
    index: int = Field(ge=-887272, le=887272)
    liquidity_net: SignedBigInt


class PoolStateV2(WireModel):
    kind: Literal["v2"] = "v2"
    address: Address
    dex: Dex
    token0: Address
    token1: Address
    reserve0: BigInt
    reserve1: BigInt
    fee_bps: int = Field(30, ge=0, lt=10_000)


class PoolStateV3(WireModel):
    kind: Literal["v3"] = "v3"
    address: Address
    dex: Dex
    token0: Address
    token1: Address
    fee: int = Field(ge=0, lt=1_000_000)
    tick_spacing: int = Field(ge=1, le=16384)
    sqrt_price_x96: BigInt
    tick: int = Field(ge=-887272, le=887272)
    liquidity: BigInt
    ticks: list[Tick] = Field(default_factory=list)


PoolState = Annotated[PoolStateV2 | PoolStateV3, Field(discriminator="kind")]


class PoolVersion(WireModel):
    """Where a pool's state stands in the chain: the last event applied."""

    block_number: int = Field(ge=0)
    log_index: int = Field(ge=-1)  # -1: read by a snapshot at the end of the block, no event


class PoolUpdate(WireModel):
    """A pool's new state, as ingest publishes it on `WS /ws/pools`."""

    chain_id: int
    pool: PoolState
    block_number: int = Field(ge=0)
    log_index: int = Field(ge=-1)
    block_hash: str | None = None
    removed: bool = False  # True when a reorg rolled this pool back to the state given
    received_at: float | None = None  # unix seconds when the triggering block/log arrived


class BlockComplete(WireModel):
    """Ingest's end-of-block marker on `WS /ws/pools`: every update of the blocks up to
    `block_number` was sent before it, so a consumer can price the block now. One follows the
    snapshot a client gets on subscribing, and every block ingest completes (after a reorg:
    the canonical blocks re-applied)."""

    type: Literal["block"] = "block"
    chain_id: int
    block_number: int = Field(ge=0)
    block_hash: str | None = None
    received_at: float | None = None  # unix seconds when the block's head arrived at ingest


# One message of ingest's `WS /ws/pools`: a pool's new state or a block's end.
IngestMessage = Annotated[PoolUpdate | BlockComplete, Field(union_mode="left_to_right")]


class IngestPoolV2(PoolStateV2):
    """A V2 pool as ingest's REST API gives it: the state and its version."""

    block_number: int = Field(ge=0, description="block of the last event applied")
    log_index: int = Field(ge=-1, description="its log index; -1: read by a snapshot")


class IngestPoolV3(PoolStateV3):
    """A V3 pool as ingest's REST API gives it: the state and its version."""

    block_number: int = Field(ge=0, description="block of the last event applied")
    log_index: int = Field(ge=-1, description="its log index; -1: read by a snapshot")


IngestPool = Annotated[IngestPoolV2 | IngestPoolV3, Field(discriminator="kind")]


class IngestPoolList(WireModel):
    """`GET /api/pools` of ingest."""

    chain_id: int
    block_number: int = Field(description="the highest block applied")
    count: int
    pools: list[IngestPool]


class IngestStats(WireModel):
    """`GET /api/stats` of ingest: the sync's counters and gauges."""

    chain_id: int
    mode: str
    connected: bool
    endpoint: str | None
    pools: int
    pools_created: int = Field(description="pools adopted from factory logs after the start")
    block_number: int
    complete_block: int = Field(description="every log up to this block is applied")
    node_head: int
    lag_blocks: int
    lag_ms: float
    events_applied: int
    events_stale: int
    events_late: int = Field(description="logs the stream sent after their block was completed")
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
    blocks_published: int = Field(description="block markers published")
    publish_latency_ms: dict[str, float | None] = Field(
        description="log arrival to update queued for WS clients: p50, p99, max (last 10,000)"
    )
    last_error: str | None


class Quote(WireModel):
    amount_in: BigInt
    amount_out: BigInt
    sqrt_price_x96_after: BigInt | None = None
    tick_after: int | None = None
    liquidity_after: BigInt | None = None


class OpportunityHop(WireModel):
    pool: Address
    dex: Dex
    kind: Literal["v2", "v3"]
    fee_bps: int | None = None
    fee: int | None = None
    token_in: Address
    token_out: Address
    amount_in: BigInt
    amount_out: BigInt


class Action(WireModel):
    execute: bool
    size_fraction: float = Field(ge=0.0, le=1.0)
    gas_bid_multiplier: float = Field(gt=0.0)
    source: str  # "rl_agent", "default" (ML down), ...


class Verification(WireModel):
    status: Literal["verified", "mismatch", "pending", "skipped", "failed", "orphaned"]
    realized_amount_out: BigInt | None = None
    block_number: int | None = None


class Opportunity(WireModel):
    id: str
    chain_id: int
    block_number: int
    base_token: Address
    amount_in: BigInt
    amount_out: BigInt
    gross_profit: SignedBigInt
    gas_units: int
    gas_price_wei: BigInt
    gas_cost: BigInt
    net_profit: SignedBigInt
    hops: list[OpportunityHop]
    action: Action
    verification: Verification
    detected_at: float
    latency_ms: float


class Health(WireModel):
    status: Literal["ok"] = "ok"
    service: str


class Readiness(WireModel):
    ready: bool
    checks: dict[str, str]  # dependency -> "ok" or why not
