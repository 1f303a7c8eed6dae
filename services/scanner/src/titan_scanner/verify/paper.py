"""Paper trading: the opportunities the policy would execute, sent for real from one account.

Each trade is `TitanArbExecutor.execute(hops, amountIn, minAmountOut=amountIn)`: a trade that
can no longer pay back its input reverts instead of losing it, and only the gas is spent. The
outcome is read from the receipt: `landed` with the amount the executor transferred back (its
final ERC-20 `Transfer` to the account), `reverted`, or `failed` when the transaction was not
sent or no receipt came within `RECEIPT_TIMEOUT_S`.

Trades go one at a time from one account, nonces in order. On the devnet the account is one
of anvil's unlocked test accounts (`eth_sendTransaction`); elsewhere transactions are signed
here with the key from the settings, which is never logged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

import structlog
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hexbytes import HexBytes

from titan_common.models import Address, BigInt, Opportunity, SignedBigInt, WireModel
from titan_scanner.chain import ChainReader
from titan_scanner.verify.executor import encode_execute

_log = structlog.get_logger("scanner.paper")

TRANSFER_TOPIC = HexBytes(keccak(text="Transfer(address,address,uint256)"))
# How long a trade waits for its receipt, and how often it asks.
RECEIPT_TIMEOUT_S = 30.0
RECEIPT_POLL_S = 0.1
# The gas limit is set, not estimated (an estimate of a trade that would revert fails, and
# the revert is an outcome worth recording): the scanner's own estimate with headroom.
GAS_HEADROOM = 2
MIN_GAS = 200_000
# Trades waiting at most; past it the oldest give way (recorded `failed`, never sent).
QUEUE_LIMIT = 64

PaperStatus = Literal["landed", "reverted", "failed"]


class PaperTrade(WireModel):
    """The outcome of one paper trade; amounts in the base token's smallest unit."""

    opportunity_id: str
    chain_id: int
    account: Address
    tx_hash: str | None
    block_found: int  # the opportunity's block
    block_landed: int | None
    status: PaperStatus
    amount_in: BigInt
    predicted_amount_out: BigInt
    realized_amount_out: BigInt | None
    realized_profit: SignedBigInt | None  # realized amount out - amount in
    gas_used: int | None
    effective_gas_price_wei: BigInt | None
    gas_cost_wei: BigInt | None
    error: str | None = None
    sent_at: float


def _topic_address(topic: Any) -> str:
    return "0x" + HexBytes(topic)[-20:].hex().removeprefix("0x")


def realized_amount_out(
    receipt: Mapping[str, Any], token: str, executor: str, account: str
) -> int | None:
    """The amount of the last `Transfer` of `token` from the executor to the account."""
    found = None
    for log in receipt.get("logs", []):
        topics = log.get("topics", [])
        if (
            len(topics) == 3
            and str(log.get("address", "")).lower() == token.lower()
            and HexBytes(topics[0]) == TRANSFER_TOPIC
            and _topic_address(topics[1]).lower() == executor.lower()
            and _topic_address(topics[2]).lower() == account.lower()
        ):
            found = int.from_bytes(HexBytes(log["data"]), "big")
    return found


def outcome(
    opportunity: Opportunity,
    account: str,
    executor: str,
    receipt: Mapping[str, Any],
    sent_at: float,
) -> PaperTrade:
    """The trade's record from its receipt."""
    landed = int(receipt["status"]) == 1
    token = opportunity.hops[-1].token_out
    realized = realized_amount_out(receipt, token, executor, account) if landed else None
    gas_used = int(receipt["gasUsed"])
    price = int(receipt["effectiveGasPrice"])
    return PaperTrade(
        opportunity_id=opportunity.id,
        chain_id=opportunity.chain_id,
        account=account,
        tx_hash="0x" + HexBytes(receipt["transactionHash"]).hex().removeprefix("0x"),
        block_found=opportunity.block_number,
        block_landed=int(receipt["blockNumber"]),
        status="landed" if landed else "reverted",
        amount_in=opportunity.amount_in,
        predicted_amount_out=opportunity.amount_out,
        realized_amount_out=realized,
        realized_profit=None if realized is None else realized - opportunity.amount_in,
        gas_used=gas_used,
        effective_gas_price_wei=price,
        gas_cost_wei=gas_used * price,
        error="no transfer back to the account" if landed and realized is None else None,
        sent_at=sent_at,
    )


def failed(
    opportunity: Opportunity, account: str, reason: str, tx_hash: str | None = None
) -> PaperTrade:
    return PaperTrade(
        opportunity_id=opportunity.id,
        chain_id=opportunity.chain_id,
        account=account,
        tx_hash=tx_hash,
        block_found=opportunity.block_number,
        block_landed=None,
        status="failed",
        amount_in=opportunity.amount_in,
        predicted_amount_out=opportunity.amount_out,
        realized_amount_out=None,
        realized_profit=None,
        gas_used=None,
        effective_gas_price_wei=None,
        gas_cost_wei=None,
        error=reason[:200],
        sent_at=time.time(),
    )


class PaperTrader:
    """Sends trades one at a time from `account`; `signer` set off the devnet only."""

    def __init__(
        self,
        chain: ChainReader,
        executor: str,
        account: str,
        signer: LocalAccount | None = None,
        record: Callable[[PaperTrade], Awaitable[None]] | None = None,
        receipt_timeout: float = RECEIPT_TIMEOUT_S,
    ) -> None:
        if signer is not None and signer.address.lower() != account.lower():
            raise ValueError("SCANNER_PAPER_ACCOUNT is not the key's account")
        self.chain = chain
        self.executor = executor
        self.account = account
        self.signer = signer
        self.record = record
        self.receipt_timeout = receipt_timeout
        self._nonce: int | None = None  # the next nonce; read from the node when unknown
        self._lock = asyncio.Lock()
        self._queue: asyncio.Queue[Opportunity] = asyncio.Queue(QUEUE_LIMIT)
        self._dropped: list[PaperTrade] = []  # given way in the queue, recorded by `run`

    def offer(self, opportunity: Opportunity) -> None:
        """Queue a trade if the policy would execute it; a full queue drops its oldest."""
        if not opportunity.action.execute:
            return
        if self._queue.full():
            oldest = self._queue.get_nowait()
            _log.warning("scanner.paper.queue_full", dropped=oldest.id)
            self._dropped.append(failed(oldest, self.account, "not sent: queue full"))
        self._queue.put_nowait(opportunity)

    async def run(self) -> None:
        """Trade what is offered, in order, recording each outcome (and each dropped trade)."""
        while True:
            opportunity = await self._queue.get()
            trade = await self.trade(opportunity)
            dropped, self._dropped = self._dropped, []
            for result in [*dropped, trade]:
                await self._record(result)

    async def _record(self, trade: PaperTrade) -> None:
        if self.record is None:
            return
        try:
            await self.record(trade)
        except Exception as exc:
            _log.error("scanner.paper.record_failed", id=trade.opportunity_id, reason=str(exc))

    async def trade(self, opportunity: Opportunity) -> PaperTrade:
        async with self._lock:
            result = await self._trade(opportunity)
        _log.info(
            "scanner.paper.traded",
            id=opportunity.id,
            status=result.status,
            tx_hash=result.tx_hash,
            realized_profit=None if result.realized_profit is None else str(result.realized_profit),
            gas_cost_wei=None if result.gas_cost_wei is None else str(result.gas_cost_wei),
            error=result.error,
        )
        return result

    async def _trade(self, opportunity: Opportunity) -> PaperTrade:
        w3 = self.chain.w3
        try:
            if self._nonce is None:
                self._nonce = await w3.eth.get_transaction_count(self.account, "pending")  # type: ignore[arg-type]
            tx = self._tx(opportunity, self._nonce)
            sent_at = time.time()
            tx_hash = await self._send(tx)
        except Exception as exc:
            self._nonce = None  # the node's count is the truth again
            return failed(opportunity, self.account, f"not sent: {_reason(exc)}")
        self._nonce += 1
        try:
            receipt: Any = await w3.eth.wait_for_transaction_receipt(
                tx_hash,
                timeout=self.receipt_timeout,
                poll_latency=RECEIPT_POLL_S,
            )
        except Exception as exc:
            self._nonce = None
            hex_hash = "0x" + tx_hash.hex().removeprefix("0x")
            return failed(opportunity, self.account, f"no receipt: {_reason(exc)}", hex_hash)
        return outcome(opportunity, self.account, self.executor, receipt, sent_at)

    def _tx(self, opportunity: Opportunity, nonce: int) -> dict[str, Any]:
        data = encode_execute(opportunity, min_amount_out=opportunity.amount_in)
        return {
            "from": self.account,
            "to": self.executor,
            "data": "0x" + data.hex(),
            "nonce": nonce,
            "gas": max(MIN_GAS, opportunity.gas_units * GAS_HEADROOM),
            "value": 0,
        }

    async def _send(self, tx: dict[str, Any]) -> HexBytes:
        w3 = self.chain.w3
        if self.signer is None:
            return HexBytes(await w3.eth.send_transaction(tx))  # type: ignore[arg-type]
        block: Any = await w3.eth.get_block("latest")
        priority = int(await w3.eth.max_priority_fee)
        tx = dict(tx)
        tx.pop("from")
        tx["chainId"] = int(await w3.eth.chain_id)
        tx["maxPriorityFeePerGas"] = priority
        tx["maxFeePerGas"] = 2 * int(block["baseFeePerGas"]) + priority
        signed = self.signer.sign_transaction(tx)
        return HexBytes(await w3.eth.send_raw_transaction(signed.raw_transaction))


def _reason(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:200]
