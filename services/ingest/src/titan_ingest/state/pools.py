"""One pool's state and how each event changes it, exactly as the contracts do.

V2: `Sync` carries the new reserves. V3: `Swap` carries the new price, tick and active
liquidity; `Mint`/`Burn` change liquidityNet and liquidityGross at their two ticks (a tick
exists while its gross liquidity is above zero) and the active liquidity when the range
holds the current tick, with the contract's condition `tickLower <= tick < tickUpper`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from titan_ingest.chain.abi import Burn, Initialize, Mint, PoolEvent, Swap, Sync
from titan_ingest.chain.config import PoolMeta

# Internal version of a snapshot read at the end of a block: after any log of that block.
SNAPSHOT_LOG_INDEX = -1
_END_OF_BLOCK = 1 << 62


@dataclass(slots=True)
class TickInfo:
    liquidity_gross: int
    liquidity_net: int


@dataclass(slots=True)
class PoolEntry:
    """A pool's state and the version of the last event applied (log_index -1: a snapshot)."""

    meta: PoolMeta
    block_number: int
    log_index: int
    block_hash: str | None = None
    received_at: float | None = None
    # V2
    reserve0: int = 0
    reserve1: int = 0
    # V3
    sqrt_price_x96: int = 0
    tick: int = 0
    liquidity: int = 0
    ticks: dict[int, TickInfo] = field(default_factory=dict)
    _ticks_wire: list[dict[str, Any]] | None = None

    @property
    def version(self) -> tuple[int, int]:
        """The (block, log index) order key; a snapshot sorts after every log of its block."""
        index = _END_OF_BLOCK if self.log_index == SNAPSHOT_LOG_INDEX else self.log_index
        return (self.block_number, index)

    def copy(self) -> PoolEntry:
        ticks = {i: TickInfo(t.liquidity_gross, t.liquidity_net) for i, t in self.ticks.items()}
        return PoolEntry(
            self.meta,
            self.block_number,
            self.log_index,
            self.block_hash,
            self.received_at,
            self.reserve0,
            self.reserve1,
            self.sqrt_price_x96,
            self.tick,
            self.liquidity,
            ticks,
            self._ticks_wire,
        )

    def apply(self, event: PoolEvent) -> bool:
        """Change the state by `event`; False when the event does not apply to this pool."""
        if self.meta.kind == "v2":
            if isinstance(event, Sync):
                self.reserve0, self.reserve1 = event.reserve0, event.reserve1
                return True
            return False
        if isinstance(event, Swap):
            self.sqrt_price_x96, self.tick, self.liquidity = (
                event.sqrt_price_x96,
                event.tick,
                event.liquidity,
            )
            return True
        if isinstance(event, Mint):
            self._modify_position(event.tick_lower, event.tick_upper, event.amount)
            return True
        if isinstance(event, Burn):
            self._modify_position(event.tick_lower, event.tick_upper, -event.amount)
            return True
        if isinstance(event, Initialize):
            self.sqrt_price_x96, self.tick = event.sqrt_price_x96, event.tick
            return True
        return False

    def _modify_position(self, tick_lower: int, tick_upper: int, delta: int) -> None:
        # UniswapV3Pool._modifyPosition / _updatePosition / Tick.update, for liquidity only.
        if delta == 0:
            return  # a poke: fees only
        self._update_tick(tick_lower, delta, upper=False)
        self._update_tick(tick_upper, delta, upper=True)
        if tick_lower <= self.tick < tick_upper:
            self.liquidity += delta
        self._ticks_wire = None

    def _update_tick(self, index: int, delta: int, upper: bool) -> None:
        info = self.ticks.get(index)
        if info is None:
            info = self.ticks[index] = TickInfo(0, 0)
        info.liquidity_gross += delta
        info.liquidity_net += -delta if upper else delta
        if info.liquidity_gross == 0:
            del self.ticks[index]  # Tick.clear when the tick flips to uninitialized

    def state_wire(self) -> dict[str, Any]:
        """The pool in the shared wire shape (`PoolStateV2`/`PoolStateV3`, JSON mode)."""
        m = self.meta
        if m.kind == "v2":
            return {
                "kind": "v2",
                "address": m.address,
                "dex": m.dex,
                "token0": m.token0,
                "token1": m.token1,
                "reserve0": str(self.reserve0),
                "reserve1": str(self.reserve1),
                "fee_bps": m.fee_bps,
            }
        if self._ticks_wire is None:
            self._ticks_wire = [
                {"index": i, "liquidity_net": str(self.ticks[i].liquidity_net)}
                for i in sorted(self.ticks)
            ]
        return {
            "kind": "v3",
            "address": m.address,
            "dex": m.dex,
            "token0": m.token0,
            "token1": m.token1,
            "fee": m.fee,
            "tick_spacing": m.tick_spacing,
            "sqrt_price_x96": str(self.sqrt_price_x96),
            "tick": self.tick,
            "liquidity": str(self.liquidity),
            "ticks": self._ticks_wire,
        }
