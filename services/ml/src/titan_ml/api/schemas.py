"""Request and response bodies of the ML API. Wei amounts are decimal strings on the way out
and decimal strings, integers or 0x-hex quantities (as `eth_feeHistory` gives them) on the way in."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetPydanticSchema,
    WithJsonSchema,
)
from pydantic_core import core_schema

from titan_common.models import BigInt, SignedBigInt


def _or_hex(source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
    """The decimal forms of `source`, or a 0x-hex quantity (checked in pydantic-core; a
    batch of RL states carries five of these each)."""
    hex_quantity = core_schema.chain_schema(
        [
            core_schema.str_schema(pattern="^0x[0-9a-fA-F]{1,64}$", strict=True),
            core_schema.no_info_plain_validator_function(lambda text: int(text, 16)),
        ]
    )
    return core_schema.union_schema(
        [handler(source), hex_quantity],
        mode="left_to_right",
        custom_error_type="wei",
        custom_error_message="must be an integer in [0, 2^256-1], as a decimal string or a "
        "0x-hex quantity",
    )


WeiIn = Annotated[
    BigInt,
    GetPydanticSchema(_or_hex),
    WithJsonSchema({"type": "string", "pattern": "^([0-9]{1,78}|0x[0-9a-fA-F]{1,64})$"}),
]
SignedWeiIn = SignedBigInt


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FeeHistoryIn(_In):
    """An `eth_feeHistory` result: one more base fee than blocks (the next block's)."""

    oldest_block: Annotated[
        int,
        BeforeValidator(lambda v: int(v, 16) if isinstance(v, str) and v.startswith("0x") else v),
    ] = Field(0, ge=0, alias="oldestBlock")
    base_fee_per_gas: list[WeiIn] = Field(min_length=2, max_length=1025, alias="baseFeePerGas")
    gas_used_ratio: list[Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        min_length=1, max_length=1024, alias="gasUsedRatio"
    )
    reward: list[list[WeiIn]] | None = None
    reward_percentiles: list[Annotated[float, Field(ge=0, le=100)]] | None = None
    timestamps: list[float] | None = None


class ForecastRequest(_In):
    chain_id: int = Field(ge=1)
    horizon: int | None = Field(None, ge=1, le=64, description="one horizon; all when absent")
    block_number: int | None = Field(
        None,
        ge=0,
        description="the newest block the caller knows of (the one it prices): the chain's "
        "history used reaches it, cached or not; without it the cache lives ML_FEE_HISTORY_TTL",
    )
    fee_history: FeeHistoryIn | None = Field(
        None, description="forecast from this history instead of the chain's"
    )


class HorizonOut(BaseModel):
    horizon: int
    block_number: int
    base_fee_wei: BigInt
    quantiles: dict[str, BigInt]
    model: str
    priority_fee_wei: BigInt | None = None
    priority_fee_quantiles: dict[str, BigInt] | None = None


class ForecastResponse(BaseModel):
    chain_id: int
    model: str = Field(description="'ensemble' or 'baseline_eip1559' (no model loaded)")
    model_reason: str | None = None
    last_block: int
    next_base_fee_wei: BigInt
    training_span: dict[str, Any] | None = None
    forecasts: list[HorizonOut]


class ForecastBatchRequest(_In):
    requests: list[ForecastRequest] = Field(min_length=1, max_length=256)


class ForecastBatchResponse(BaseModel):
    results: list[ForecastResponse]


class RlStateIn(BaseModel):
    """An opportunity as the scanner describes it; unknown extra keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    spread_bps: float = Field(ge=-10_000, le=10_000, description="gross profit / input, bps")
    amount_in: WeiIn = Field(description="input in the base token's smallest unit")
    gross_profit: SignedWeiIn | None = None
    gas_cost: WeiIn | None = None
    gas_price_wei: WeiIn | None = None
    net_profit: SignedWeiIn | None = None
    hops: int | None = Field(None, ge=1, le=8)
    recent_success: float | None = Field(
        None, ge=0.0, le=1.0, description="share of recent attempts that landed"
    )
    base_token_decimals: int = Field(18, ge=0, le=36)


class ActionOut(BaseModel):
    execute: bool
    size_fraction: float
    gas_bid_multiplier: float
    source: str


class RlActionResponse(BaseModel):
    action: ActionOut
    action_name: str
    q_values: dict[str, float] = Field(
        default_factory=dict, description="every action's; left out when a batch asks so"
    )
    state: list[int]
    seen_state: bool


class RlBatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    states: list[RlStateIn] = Field(min_length=1, max_length=1024)
    q_values: bool = Field(True, description="each answer with every action's Q-value")


class RlBatchResponse(BaseModel):
    actions: list[RlActionResponse]


class TrainRequest(_In):
    samples: int | None = Field(None, ge=500)
    episodes: int = Field(400, ge=1, le=100_000)
    synthetic: bool = False


class TrainJobOut(BaseModel):
    id: str
    status: str
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    summary: dict[str, Any] | None = None


class ModelInfo(BaseModel):
    loaded: bool
    message: str
    metadata: dict[str, Any] | None = None
    # the RL agent: {"states_learned": n, "states": all}; a state it never trained in is
    # answered by the threshold rule (its action's source says so)
    coverage: dict[str, int] | None = None


class ModelsResponse(BaseModel):
    enabled: bool
    forecaster: ModelInfo
    rl_agent: ModelInfo


__all__ = ["BigInt", "SignedBigInt"]
