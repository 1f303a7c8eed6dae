"""What ingest published, recorded from its `WS /ws/pools` by a thread, so that a failed proof
explains itself: for each pool of a mismatched opportunity, ingest's state at the block
against the chain's."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from typing import Any

from websockets.sync.client import connect

from titan_common.pool_math import v2
from titan_common.pool_math.v3.swap import PoolState, swap
from titan_devnet.pool_state import read_pool_state
from titan_devnet.testing import Devnet

STATE_KEYS = ("reserve0", "reserve1", "sqrt_price_x96", "tick", "liquidity")


class IngestRecorder:
    """Every pool update and block marker ingest sends, the recent ones per pool; it
    reconnects when ingest goes away (a fault test kills it)."""

    def __init__(self, ws_url: str) -> None:
        self.ws_url = ws_url
        self.updates: dict[str, deque[dict[str, Any]]] = defaultdict(lambda: deque(maxlen=400))
        self.markers: deque[dict[str, Any]] = deque(maxlen=2000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest-recorder", daemon=True)

    def start(self) -> IngestRecorder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with connect(self.ws_url, max_size=None, max_queue=None, ping_interval=None) as ws:
                    while not self._stop.is_set():
                        try:
                            self._note(json.loads(ws.recv(timeout=0.5)), time.time())
                        except TimeoutError:
                            continue
            except Exception:  # ingest is down: try again
                self._stop.wait(0.5)

    def _note(self, message: Any, at: float) -> None:
        for item in message if isinstance(message, list) else [message]:
            item["seen_at"] = at
            if item.get("type") == "block":
                self.markers.append(item)
            elif "pool" in item:
                self.updates[item["pool"]["address"]].append(item)

    def explain(self, devnet: Devnet, opportunity: dict[str, Any]) -> list[str]:
        """Per pool of `opportunity`: the chain's state at its block, and what ingest sent
        for that pool around it (oldest first)."""
        block = int(opportunity["block_number"])
        lines = [f"opportunity {opportunity['id']} at block {block}:"]
        marks = [m for m in self.markers if block - 2 <= m["block_number"] <= block + 1]
        lines.append(
            "  markers: " + ", ".join(f"{m['block_number']}@{m['seen_at']:.2f}" for m in marks)
        )
        for hop in opportunity["hops"]:
            address = hop["pool"]
            chain = read_pool_state(devnet.rpc_url, devnet.pool(address), block)
            lines.append(
                f"  {address} chain@{block}: {_state(chain)}; hop in {hop['amount_in']} out "
                f"{hop['amount_out']}, on the chain's state {_hop_out(chain, hop)}"
            )
            for update in self.updates.get(address, ()):
                if block - 5 <= update["block_number"] <= block + 2:
                    lines.append(
                        f"    ingest {update['block_number']}:{update['log_index']}"
                        f"{' removed' if update.get('removed') else ''} at "
                        f"{update['seen_at']:.2f}: {_state(update['pool'])}"
                    )
        return lines


def _state(pool: dict[str, Any]) -> dict[str, Any]:
    return {k: pool[k] for k in STATE_KEYS if k in pool}


def _hop_out(pool: dict[str, Any], hop: dict[str, Any]) -> int | str:
    """The hop's output by the Python reference math on `pool` (the chain's state)."""
    amount_in = int(hop["amount_in"])
    zero_for_one = hop["token_in"] == pool["token0"]
    try:
        if pool["kind"] == "v2":
            r0, r1 = int(pool["reserve0"]), int(pool["reserve1"])
            r_in, r_out = (r0, r1) if zero_for_one else (r1, r0)
            return v2.get_amount_out(amount_in, r_in, r_out, int(hop.get("fee_bps") or 30))
        state = PoolState(
            int(pool["sqrt_price_x96"]),
            int(pool["tick"]),
            int(pool["liquidity"]),
            int(pool["fee"]),
            int(pool["tick_spacing"]),
            tuple((t["index"], int(t["liquidity_net"])) for t in pool["ticks"]),
        )
        result = swap(state, zero_for_one, amount_in)
        return -(result.amount1 if zero_for_one else result.amount0)
    except Exception as exc:  # the reference refuses: say so instead of failing the report
        return f"{type(exc).__name__}: {exc}"
