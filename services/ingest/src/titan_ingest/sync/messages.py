"""What a source hands the sequencer: heads, logs, and requests to catch up over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from titan_ingest.chain import abi
from titan_ingest.chain.abi import Created, MalformedLogError, PoolEvent
from titan_ingest.chain.rpc import Header


@dataclass(frozen=True, slots=True)
class HeadMsg:
    header: Header
    received_at: float


@dataclass(frozen=True, slots=True)
class LogMsg:
    address: str
    block_number: int
    block_hash: str
    log_index: int
    removed: bool
    event: PoolEvent | Created | None  # Created: a factory announces a pool
    received_at: float


@dataclass(frozen=True, slots=True)
class CatchUpMsg:
    """Read the chain over HTTP up to its head before anything that follows: sent on every
    (re)connection, and every polling interval when polling or while the WebSocket is down."""

    reason: str
    received_at: float


Message = HeadMsg | LogMsg | CatchUpMsg


def parse_log(log: Any, received_at: float) -> LogMsg:
    """A node's log object (web3.py-formatted or raw JSON-RPC) as a `LogMsg`."""
    if not isinstance(log, dict) and not hasattr(log, "get"):
        raise MalformedLogError("a log must be an object")
    try:
        topics = [abi.to_bytes(t) for t in log["topics"]]
        data = abi.to_bytes(log["data"])
        event: PoolEvent | Created | None = abi.decode_pool_event(topics, data)
        if event is None:
            event = abi.decode_created(topics, data)
        return LogMsg(
            address=abi.checksum(log["address"]),
            block_number=abi.to_int(log["blockNumber"]),
            block_hash=abi.to_hash(log["blockHash"]),
            log_index=abi.to_int(log["logIndex"]),
            removed=bool(log.get("removed", False)),
            event=event,
            received_at=received_at,
        )
    except (KeyError, TypeError) as exc:
        raise MalformedLogError(f"log without {exc}") from exc
    except ValueError as exc:
        raise MalformedLogError(str(exc)) from exc


def parse_head(block: Any, received_at: float) -> HeadMsg:
    return HeadMsg(Header.parse(dict(block)), received_at)
