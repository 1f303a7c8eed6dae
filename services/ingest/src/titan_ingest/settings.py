"""Ingest's settings: the shared base plus the `INGEST_*` fields, read once in `main`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from titan_common.settings import TitanSettings


class IngestSettings(TitanSettings):
    """Everything ingest reads from the environment (see the README's table)."""

    ingest_port: int = Field(8001, ge=0, le=65535)
    ingest_bind_addr: str = "127.0.0.1"
    # HTTP requests in flight past which the service answers 503 with Retry-After.
    ingest_max_in_flight: int = Field(256, ge=1)

    # Where the pools come from: a chain config (a name under `chains/` or a path); when unset,
    # the devnet's manifest (`DEVNET_MANIFEST`) with its explicit pool list.
    ingest_chain_config: str | None = None
    # Discover pools from the factories' creation logs even when an explicit list exists.
    ingest_discover: bool = False
    ingest_discovery_start_block: int | None = Field(None, ge=0)
    # Follow the pools the factories create after the start (tokens on the allow-list).
    ingest_follow_new_pools: bool = True

    # Endpoints, tried in order with failover; empty means the chain config's or CHAIN_*_URL.
    ingest_rpc_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    ingest_ws_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    ingest_request_timeout: float = Field(10.0, gt=0)

    # Snapshot: "helper" (a read-only contract through eth_call with a code override, one
    # call per pool; falls back to "batch" when the node refuses overrides) or "batch" (one
    # call per view function); calls per JSON-RPC batch and batches in flight.
    ingest_snapshot_method: Literal["helper", "batch"] = "helper"
    ingest_batch_size: int = Field(1000, ge=1)
    ingest_batch_concurrency: int = Field(2, ge=1)
    ingest_progress: bool = True

    # Live sync.
    ingest_reorg_depth: int = Field(64, ge=1)  # blocks of undo history kept
    ingest_log_range: int = Field(2000, ge=1)  # blocks per eth_getLogs range
    ingest_reconnect_min_delay: float = Field(0.1, gt=0)
    ingest_reconnect_max_delay: float = Field(10.0, gt=0)
    ingest_stall_timeout: float = Field(15.0, gt=0)  # no WS message this long: probe the node

    # Readiness: behind the head by more than this many blocks is not ready.
    ingest_max_lag_blocks: int = Field(3, ge=0)

    # WS /ws/pools: updates queued per client before it is dropped as too slow.
    ingest_client_queue_size: int = Field(2048, ge=1)

    @field_validator("ingest_rpc_urls", "ingest_ws_urls", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        # Accept `a,b` as well as a JSON list in the environment.
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def chain_config_path(self) -> Path | None:
        """The chain config file named by `INGEST_CHAIN_CONFIG`, or None for the manifest."""
        if self.ingest_chain_config is None:
            return None
        given = Path(self.ingest_chain_config)
        if given.suffix == ".json" or given.is_file():
            return given
        return CHAINS_DIR / f"{self.ingest_chain_config}.json"


def _chains_dir() -> Path:
    # In the source tree `services/ingest/chains/`; in a wheel, packaged as `titan_ingest/chains/`.
    here = Path(__file__).resolve().parent
    packaged = here / "chains"
    return packaged if packaged.is_dir() else here.parents[1] / "chains"


# The shipped chain configs (real mainnet factory addresses).
CHAINS_DIR = _chains_dir()
