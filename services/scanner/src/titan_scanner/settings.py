"""The scanner's settings: `TitanSettings` plus what the scanner alone reads (`SCANNER_*`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from titan_common.models import parse_address
from titan_common.settings import TitanSettings

# The devnet's chain id: its accounts are anvil's well-known test accounts, unlocked.
DEVNET_CHAIN_ID = 31337


class ScannerSettings(TitanSettings):
    """Every knob of the scanner, named after its environment variable."""

    scanner_port: int = Field(8002, ge=0, le=65535)
    scanner_bind_addr: str = "127.0.0.1"
    # HTTP requests in flight past which the service answers 503 with Retry-After.
    scanner_max_in_flight: int = Field(256, ge=1)
    # "i/n": this scanner keeps the cycles whose stable hash is i modulo n.
    scanner_shard: str = Field("0/1", pattern=r"^[0-9]+/[1-9][0-9]*$")
    # The smallest net profit published, in the base token's smallest unit.
    min_profit: int = Field(0, ge=0)
    # Symbols (resolved through the devnet manifest) or addresses; cycles start and end here.
    base_tokens: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["WETH"])
    # The chain's wrapped native token (gas is paid in it); a symbol or an address.
    scanner_native_token: str = "WETH"
    database_url: str = "sqlite:///./data/scanner.db"
    # The history keeps the newest this many opportunities (0: all). The devnet's flow
    # publishes ~80 a second, ~1.6 KB each in SQLite: a million is ~1.6 GB, about 3.5 hours.
    scanner_history_max_opportunities: int = Field(1_000_000, ge=0)
    # How often the history is cut back to that many, in seconds.
    scanner_history_prune_interval: float = Field(60.0, gt=0)

    # Gas units of an executor call, measured on the devnet with eth_estimateGas:
    # a fixed part plus one per hop by pool kind.
    scanner_gas_base: int = Field(45_000, ge=0)
    scanner_gas_v2_hop: int = Field(62_000, ge=0)
    scanner_gas_v3_hop: int = Field(105_000, ge=0)

    # Cycle index and screening.
    scanner_max_cycles_per_pool: int = Field(200, ge=1)
    scanner_max_hops: Literal[2, 3] = 3
    # Minimum of log(product of marginal rates after fees) for a cycle to go to the engine.
    scanner_screen_min_log_edge: float = 0.0
    # A block's updates are priced on ingest's marker of the block (or a newer block's update);
    # an ingest that sends no markers has its block priced after this many seconds.
    scanner_block_timeout: float = Field(1.0, gt=0.0)
    scanner_engine_batch_max: int = Field(1000, ge=1)
    # At most this many cycles per block go to the engine, the largest marginal edges first;
    # bounds the latency of a block that moves many pools at once.
    scanner_max_evaluations_per_block: int = Field(256, ge=1)

    # Verification by eth_call of the executor: every opportunity, a share, or none.
    scanner_verify: Literal["all", "sample", "off"] = "all"
    scanner_verify_sample_rate: float = Field(0.1, ge=0.0, le=1.0)
    # Proofs further behind the head are skipped: the node may no longer hold that state.
    scanner_verify_max_age_blocks: int = Field(48, ge=1)
    scanner_executor_address: str | None = None
    scanner_verifier_address: str | None = None

    # Paper trading: each opportunity the policy would execute is sent for real from one
    # account (default: the verifier account, on the devnet only) and its outcome recorded.
    scanner_paper_trading: bool = False
    scanner_paper_account: str | None = None
    # Off the devnet (chain id 31337) paper trading needs both: an explicit opt-in and a key,
    # with which transactions are signed here.
    scanner_paper_trading_real_chain: bool = False
    scanner_paper_private_key: SecretStr | None = None

    # Time limits for the services the scanner calls, in seconds.
    scanner_engine_timeout: float = Field(2.0, gt=0)
    scanner_ml_timeout: float = Field(0.5, gt=0)
    scanner_rpc_timeout: float = Field(3.0, gt=0)
    # Reconnection to ingest: jittered exponential backoff between these bounds, in seconds.
    scanner_reconnect_min: float = Field(0.1, gt=0)
    scanner_reconnect_max: float = Field(5.0, gt=0)
    # How often the health of the engine and the ML service is probed, in seconds.
    scanner_probe_interval: float = Field(1.0, gt=0)
    # Opportunities kept in memory for the dashboard and the stats window.
    scanner_recent_limit: int = Field(500, ge=1)

    @field_validator("base_tokens", mode="before")
    @classmethod
    def _split_tokens(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator(
        "scanner_executor_address", "scanner_verifier_address", "scanner_paper_account"
    )
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else parse_address(value)

    @model_validator(mode="after")
    def _check_shard(self) -> ScannerSettings:
        index, count = (int(part) for part in self.scanner_shard.split("/"))
        if index >= count:
            raise ValueError(f"SCANNER_SHARD {self.scanner_shard}: index must be below count")
        return self

    @model_validator(mode="after")
    def _check_paper_trading(self) -> ScannerSettings:
        if not self.scanner_paper_trading or self.chain_id == DEVNET_CHAIN_ID:
            return self
        if not (self.scanner_paper_trading_real_chain and self.scanner_paper_private_key):
            raise ValueError(
                f"SCANNER_PAPER_TRADING on chain {self.chain_id} (not the devnet) needs "
                "SCANNER_PAPER_TRADING_REAL_CHAIN=true and a key in SCANNER_PAPER_PRIVATE_KEY"
            )
        return self

    def secrets(self) -> list[str]:
        key = self.scanner_paper_private_key
        return super().secrets() + ([key.get_secret_value()] if key else [])

    @property
    def shard(self) -> tuple[int, int]:
        index, count = (int(part) for part in self.scanner_shard.split("/"))
        return index, count

    @property
    def ingest_ws_url(self) -> str:
        base = self.ingest_url.rstrip("/")
        return "ws" + base.removeprefix("http") + "/ws/pools"
