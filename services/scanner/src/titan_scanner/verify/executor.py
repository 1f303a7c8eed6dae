"""Proof on the chain: `eth_call` of `TitanArbExecutor.execute` at the opportunity's block.

The executor performs the hops atomically from the caller's balance and returns the amount
after each hop; the verifier account holds every token and has approved the executor. The
opportunity is `verified` when the call's final amount equals the predicted `amount_out` to
the wei, `mismatch` when it differs, `failed` when the call reverts. A node that does not
answer (down, restarting, dropping connections) is waited for, up to `NODE_WAIT_S`, before
the proof counts as failed: the opportunity is then still proven at its block, not written
off as a revert because of the node's outage.

The call waits until the chain has a block above the opportunity's: anvil runs an `eth_call`
at its newest block on the state it is mining the next block on, so about 1 call in 100 at
the head saw the next block's swaps (a false `mismatch`); at an older block it is exact. The
verifier asks the node for its head, and is told of newer ones as ingest's markers come.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import structlog
from eth_abi.abi import decode, encode
from eth_utils.abi import function_signature_to_4byte_selector

from titan_common.models import Opportunity, Verification
from titan_scanner.chain import ChainReader, node_unreachable

_log = structlog.get_logger("scanner.verify")

EXECUTE_SIGNATURE = "execute((address,uint8,bool,uint16)[],uint256,uint256)"
_SELECTOR = function_signature_to_4byte_selector(EXECUTE_SIGNATURE)
KIND_CODES = {"v2": 0, "v3": 1}
# How long a proof waits for a block above its own (a chain that mines nothing meanwhile is
# then called at its head all the same); and how often it looks.
HEAD_WAIT_S = 12.0
HEAD_POLL_S = 0.2
# How long a proof waits for a node that does not answer, trying again every
# `NODE_RETRY_S`, doubling up to `NODE_RETRY_MAX_S`.
NODE_WAIT_S = 60.0
NODE_RETRY_S = 0.5
NODE_RETRY_MAX_S = 5.0
# How far behind the chain's head a proof may still be made. Nodes keep the state of recent
# blocks only (anvil here: 64 in memory, geth: 128), and a call at a block whose state is gone
# fails; a proof queued behind a burst of opportunities is `skipped` instead, so the queue
# catches up with the head rather than spending its calls on errors.
MAX_AGE_BLOCKS = 48


def encode_execute(
    opportunity: Opportunity, min_amount_out: int = 0, amount_in: int | None = None
) -> bytes:
    """Call data of `execute(hops, amountIn, minAmountOut)` for the opportunity's path, with
    its own input unless `amount_in` is given."""
    hops = []
    for hop in opportunity.hops:
        fee_bps = hop.fee_bps if hop.kind == "v2" else (hop.fee or 0) // 100
        zero_for_one = hop.token_in.lower() < hop.token_out.lower()
        hops.append((hop.pool, KIND_CODES[hop.kind], zero_for_one, fee_bps or 0))
    args = encode(
        ["(address,uint8,bool,uint16)[]", "uint256", "uint256"],
        [hops, opportunity.amount_in if amount_in is None else amount_in, min_amount_out],
    )
    return _SELECTOR + args


def decode_amounts(data: bytes) -> list[int]:
    (amounts,) = decode(["uint256[]"], data)
    return [int(a) for a in amounts]


def trade_size(amount_in: int, size_fraction: float) -> int:
    """The input of a trade at the policy's size fraction, rounded down: the fraction is kept
    to three decimals and applied as an integer ratio (0.25 is exactly a quarter)."""
    milli = min(1000, max(0, round(size_fraction * 1000)))
    return amount_in * milli // 1000


async def executor_amount_out(
    chain: ChainReader,
    executor: str,
    sender: str,
    opportunity: Opportunity,
    amount_in: int,
    block: int,
) -> int | None:
    """The executor's final amount for `amount_in` along the opportunity's path at `block`, sent
    from `sender`; None when the call reverts. A node that does not answer raises."""
    tx = {
        "from": sender,
        "to": executor,
        "data": "0x" + encode_execute(opportunity, amount_in=amount_in).hex(),
    }
    try:
        return decode_amounts(await chain.call(tx, block))[-1]
    except Exception as exc:
        if node_unreachable(exc):
            raise
        return None


class Verifier:
    def __init__(
        self, chain: ChainReader, executor: str, sender: str, max_age: int = MAX_AGE_BLOCKS
    ) -> None:
        self.chain = chain
        self.executor = executor
        self.sender = sender
        self.max_age = max_age
        self._head = -1  # the newest block seen
        self._head_read = 0.0  # when it was read (monotonic)
        self._waited = -1  # the newest block already waited out: its other proofs go at once
        self._silent_since: float | None = None  # since when the node has not answered
        self._head_moved = asyncio.Event()

    def note_head(self, block: int) -> None:
        """The chain has `block` (seen elsewhere): proofs waiting for it go at once."""
        if block > self._head:
            self._head = block
            self._head_read = time.monotonic()
            self._head_moved.set()

    async def wait_past(self, block: int) -> None:
        """Return once the chain has a block above `block`, or after `HEAD_WAIT_S` (once per
        block: the many proofs of one block on a quiet chain do not wait one after another)."""
        deadline = time.monotonic() + HEAD_WAIT_S
        while self._head <= block and block > self._waited:
            try:
                await self._read_head()
            except Exception:  # the call below fails and says why
                return
            if self._head > block:
                return
            if time.monotonic() >= deadline:
                self._waited = block
                return
            self._head_moved.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._head_moved.wait(), HEAD_POLL_S)

    async def _read_head(self) -> None:
        self._head = await self.chain.block_number()
        self._head_read = time.monotonic()

    def behind(self, block: int) -> bool:
        """Whether `block` is past the proof window by the newest head seen (no call)."""
        return self._head - block > self.max_age

    async def _too_old(self, block: int) -> bool:
        """Whether `block` is more than `max_age` blocks below the head (read at most every
        `HEAD_POLL_S`: a backlog of proofs does not double the calls)."""
        if self._head - block <= self.max_age and time.monotonic() - self._head_read > HEAD_POLL_S:
            try:
                await self._read_head()
            except Exception:  # the call below fails and says why
                return False
        return self.behind(block)

    def _tx(self, opportunity: Opportunity) -> dict[str, Any]:
        return {
            "from": self.sender,
            "to": self.executor,
            "data": "0x" + encode_execute(opportunity).hex(),
        }

    async def _call(self, opportunity: Opportunity) -> bytes:
        """`execute` at the opportunity's block, trying again while the node does not answer;
        a node's answer, a revert included, is returned or raised. The wait is counted from
        the node's first silence, so through a long outage the queued proofs do not wait
        `NODE_WAIT_S` each."""
        retry = NODE_RETRY_S
        while True:
            try:
                result = await self.chain.call(self._tx(opportunity), opportunity.block_number)
            except Exception as exc:
                if not node_unreachable(exc):
                    self._silent_since = None
                    raise
                now = time.monotonic()
                if self._silent_since is None:
                    self._silent_since = now
                if now + retry > self._silent_since + NODE_WAIT_S:
                    # Waited out: the next proofs of this outage fail at their first refusal
                    # (with their shorter first retry they would wait a little again).
                    self._silent_since = now - NODE_WAIT_S
                    raise
                _log.info(
                    "scanner.verification.node_waited",
                    id=opportunity.id,
                    reason=str(exc)[:200] or type(exc).__name__,
                    retry_s=retry,
                )
            else:
                self._silent_since = None
                return result
            await asyncio.sleep(retry)
            retry = min(retry * 2, NODE_RETRY_MAX_S)

    async def verify(self, opportunity: Opportunity) -> Verification:
        block = opportunity.block_number
        await self.wait_past(block)
        if await self._too_old(block):
            _log.info("scanner.verification.too_old", id=opportunity.id, head=self._head)
            return Verification(status="skipped", block_number=block)
        try:
            realized = decode_amounts(await self._call(opportunity))[-1]
        except Exception as exc:  # a revert or a node error: the proof failed, say why in logs
            _log.info("scanner.verification.failed", id=opportunity.id, reason=str(exc)[:200])
            return Verification(status="failed", block_number=block)
        status = "verified" if realized == opportunity.amount_out else "mismatch"
        return Verification(status=status, realized_amount_out=realized, block_number=block)
