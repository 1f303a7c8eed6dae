"""Paper trading: the opportunities the policy would execute, sent for real from one account,
as the policy decided them: at its size fraction and at its gas bid.

Each trade is `TitanArbExecutor.execute(hops, amountIn, minAmountOut=amountIn)` with `amountIn`
the opportunity's input times the action's size fraction: a trade that can no longer pay back
its input reverts instead of losing it, and only the gas is spent. The gas price offered is the
opportunity's own (the forecast price times the action's bid multiplier), as a legacy
`gasPrice`: every EVM chain takes it, and above the base fee it is all tip, which the block
builder orders by. The outcome is read from the receipt: `landed` with the amount the executor
transferred back (its final ERC-20 `Transfer` to the account), `reverted`, or `failed` when the
node refused the transaction (a bid below the base fee is refused), dropped it before mining
it, or no receipt came within `RECEIPT_TIMEOUT_S`. What the trade should have paid is the
executor's amount out at the opportunity's block for that input: the proven `amount_out` at
full size, for a part an `eth_call` made once the trade has its receipt (the chain is then
past that block).

Trades go one at a time from one account, nonces in order, the most profitable waiting first;
while one waits for its receipt others queue. Those of a block the chain has moved past give
way to the next block's, and past `QUEUE_LIMIT` the least profitable give way (counted, never
sent, not recorded). On the devnet the account is one of anvil's unlocked test accounts
(`eth_sendTransaction`); elsewhere transactions are signed here with the key from the
settings, which is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import structlog
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound

from titan_common.models import Address, BigInt, Opportunity, SignedBigInt, WireModel
from titan_scanner.chain import ChainReader
from titan_scanner.verify.csv_file import merge_rows
from titan_scanner.verify.executor import encode_execute, executor_amount_out, trade_size

_log = structlog.get_logger("scanner.paper")

TRANSFER_TOPIC = HexBytes(keccak(text="Transfer(address,address,uint256)"))
# How long a trade waits for its receipt, and how often it asks.
RECEIPT_TIMEOUT_S = 30.0
RECEIPT_POLL_S = 0.1
# Every this many polls, whether the node still holds the transaction at all.
DROP_CHECK_POLLS = 10
# The gas limit is set, not estimated (an estimate of a trade that would revert fails, and
# the revert is an outcome worth recording): the scanner's own estimate with headroom.
GAS_HEADROOM = 2
MIN_GAS = 200_000
# Trades of one block waiting at most; past it the least profitable give way.
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
    size_fraction: float  # the action's: `amount_in` is the opportunity's input times it
    gas_bid_multiplier: float  # the action's: `gas_price_bid_wei` is the forecast price times it
    gas_price_bid_wei: BigInt  # the gas price the transaction offered
    amount_in: BigInt
    # the executor's amount out for `amount_in` at the opportunity's block; None when that
    # call reverted (a part of a route can fail where the whole pays) or could not be made
    predicted_amount_out: BigInt | None
    realized_amount_out: BigInt | None
    realized_profit: SignedBigInt | None  # realized amount out - amount in
    gas_used: int | None
    effective_gas_price_wei: BigInt | None
    gas_cost_wei: BigInt | None
    error: str | None = None
    sent_at: float


PAPER_TRADE_COLUMNS = list(PaperTrade.model_fields)


def write_paper_trades(path: Path, trades: Iterable[PaperTrade]) -> int:
    """Merge into the CSV at `path` (by opportunity and time sent; oldest first), big numbers
    as decimal strings; returns its rows. The ML service fits its landing model on it."""

    def row(trade: PaperTrade) -> dict[str, str]:
        return {k: "" if v is None else str(v) for k, v in trade.model_dump(mode="json").items()}

    return merge_rows(
        path,
        PAPER_TRADE_COLUMNS,
        (row(t) for t in trades),
        key=lambda r: f"{r['opportunity_id']}@{r['sent_at']}",
        order=lambda r: float(r["sent_at"]),
    )


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


@dataclass(frozen=True, slots=True)
class Order:
    """A trade as the policy decided it: the input at its size fraction, what that input pays
    at the opportunity's block, and the account it goes from."""

    opportunity: Opportunity
    account: str
    amount_in: int
    predicted_amount_out: int | None

    @classmethod
    def of(cls, opportunity: Opportunity, account: str) -> Order:
        """The order of the opportunity's action; what a part pays is not known yet."""
        amount_in = trade_size(opportunity.amount_in, opportunity.action.size_fraction)
        whole = amount_in == opportunity.amount_in
        return cls(opportunity, account, amount_in, opportunity.amount_out if whole else None)

    def record(self, status: PaperStatus, sent_at: float, **outcome: Any) -> PaperTrade:
        o = self.opportunity
        return PaperTrade(
            opportunity_id=o.id,
            chain_id=o.chain_id,
            account=self.account,
            block_found=o.block_number,
            status=status,
            size_fraction=o.action.size_fraction,
            gas_bid_multiplier=o.action.gas_bid_multiplier,
            gas_price_bid_wei=o.gas_price_wei,
            amount_in=self.amount_in,
            predicted_amount_out=self.predicted_amount_out,
            sent_at=sent_at,
            **outcome,
        )


@dataclass(frozen=True, slots=True)
class Sent:
    """An order the node took, waiting for its receipt."""

    order: Order
    tx_hash: HexBytes
    sent_at: float


def outcome(order: Order, executor: str, receipt: Mapping[str, Any], sent_at: float) -> PaperTrade:
    """The trade's record from its receipt."""
    landed = int(receipt["status"]) == 1
    token = order.opportunity.hops[-1].token_out
    realized = realized_amount_out(receipt, token, executor, order.account) if landed else None
    gas_used = int(receipt["gasUsed"])
    price = int(receipt["effectiveGasPrice"])
    return order.record(
        "landed" if landed else "reverted",
        sent_at,
        tx_hash="0x" + HexBytes(receipt["transactionHash"]).hex().removeprefix("0x"),
        block_landed=int(receipt["blockNumber"]),
        realized_amount_out=realized,
        realized_profit=None if realized is None else realized - order.amount_in,
        gas_used=gas_used,
        effective_gas_price_wei=price,
        gas_cost_wei=gas_used * price,
        error="no transfer back to the account" if landed and realized is None else None,
    )


def failed(order: Order, reason: str, tx_hash: str | None = None) -> PaperTrade:
    return order.record(
        "failed",
        time.time(),
        tx_hash=tx_hash,
        block_landed=None,
        realized_amount_out=None,
        realized_profit=None,
        gas_used=None,
        effective_gas_price_wei=None,
        gas_cost_wei=None,
        error=reason[:200],
    )


class PaperTrader:
    """Sends trades from `account`, nonces in order; `signer` set off the devnet only."""

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
        self._waiting: list[Opportunity] = []  # of one block
        self._offered = asyncio.Event()
        self.dropped = 0  # offered trades that gave way, never sent

    def offer(self, opportunity: Opportunity) -> None:
        """Queue a trade if the policy would execute it. The trades still waiting from an
        older block give way (their prices have moved: sent now they would trade on a state
        that is gone); a full queue drops its least profitable."""
        if not opportunity.action.execute:
            return
        waiting = self._waiting
        if waiting and waiting[0].block_number < opportunity.block_number:
            self._drop(len(waiting))
            waiting.clear()
        waiting.append(opportunity)
        if len(waiting) > QUEUE_LIMIT:
            waiting.remove(min(waiting, key=_net_profit))
            self._drop(1)
        self._offered.set()

    def _drop(self, n: int) -> None:
        before, self.dropped = self.dropped, self.dropped + n
        if before.bit_length() != self.dropped.bit_length():  # past 1, 2, 4, 8, ...: a note
            _log.info("scanner.paper.dropped", dropped=self.dropped)

    async def _next(self) -> Opportunity:
        """The most profitable trade waiting, as a trader with one account would choose."""
        while not self._waiting:
            self._offered.clear()
            await self._offered.wait()
        best = max(self._waiting, key=_net_profit)
        self._waiting.remove(best)
        return best

    async def run(self) -> None:
        """Trade what is offered, one at a time, in order, recording each outcome. One at a
        time because the nonces of one account are one queue: with several trades pending,
        one the node drops (its bid under a risen base fee) strands the ones behind it."""
        while True:
            opportunity = await self._next()
            await self._record(await self.trade(opportunity))

    async def _record(self, trade: PaperTrade) -> None:
        if self.record is None:
            return
        try:
            await self.record(trade)
        except Exception as exc:
            _log.error("scanner.paper.record_failed", id=trade.opportunity_id, reason=str(exc))

    async def trade(self, opportunity: Opportunity) -> PaperTrade:
        """One trade, sent and waited for."""
        sent = await self.send(opportunity)
        return self._logged(sent) if isinstance(sent, PaperTrade) else await self.settle(sent)

    def _logged(self, result: PaperTrade) -> PaperTrade:
        _log.info(
            "scanner.paper.traded",
            id=result.opportunity_id,
            status=result.status,
            tx_hash=result.tx_hash,
            realized_profit=None if result.realized_profit is None else str(result.realized_profit),
            gas_cost_wei=None if result.gas_cost_wei is None else str(result.gas_cost_wei),
            error=result.error,
        )
        return result

    async def send(self, opportunity: Opportunity) -> Sent | PaperTrade:
        """The opportunity's order sent with the next nonce, or its record if it was not."""
        order = Order.of(opportunity, self.account)
        if order.amount_in == 0:
            return failed(order, "not sent: nothing to trade at this size fraction")
        async with self._lock:  # nonces in order
            try:
                if self._nonce is None:
                    w3 = self.chain.w3
                    self._nonce = await w3.eth.get_transaction_count(self.account, "pending")  # type: ignore[arg-type]
                tx = self._tx(order, self._nonce)
                sent_at = time.time()
                tx_hash = await self._send(tx)
            except Exception as exc:
                self._nonce = None  # the node's count is the truth again
                return failed(order, f"not sent: {_reason(exc)}")
            self._nonce += 1
        return Sent(order, tx_hash, sent_at)

    async def settle(self, sent: Sent) -> PaperTrade:
        """The sent trade's outcome, from its receipt."""
        try:
            receipt = await self._receipt(sent.tx_hash)
        except Exception as exc:
            self._nonce = None  # a nonce may be left unused: the node's count again
            hex_hash = "0x" + sent.tx_hash.hex().removeprefix("0x")
            return self._logged(failed(sent.order, f"no receipt: {_reason(exc)}", hex_hash))
        order = await self._predicted(sent.order)
        return self._logged(outcome(order, self.executor, receipt, sent.sent_at))

    async def _receipt(self, tx_hash: HexBytes) -> Any:
        """The transaction's receipt, polled; raises once `receipt_timeout` passes, or as soon
        as the node no longer holds the transaction (anvil drops one whose price fell below
        the base fee), so that the trades behind it are not held up by its nonce."""
        eth = self.chain.w3.eth
        deadline = time.monotonic() + self.receipt_timeout
        polls = 0
        while True:
            with contextlib.suppress(TransactionNotFound):
                return await eth.get_transaction_receipt(tx_hash)
            polls += 1
            if polls % DROP_CHECK_POLLS == 0:
                try:
                    await eth.get_transaction(tx_hash)
                except TransactionNotFound:
                    raise TransactionNotFound("dropped by the node, never mined") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"not mined after {self.receipt_timeout:g} s")
            await asyncio.sleep(RECEIPT_POLL_S)

    async def _predicted(self, order: Order) -> Order:
        """The order with what its part pays at the opportunity's block, asked once the chain
        is past that block (a node's call at its newest block can see the next one's swaps)."""
        if order.predicted_amount_out is not None:
            return order
        o = order.opportunity
        try:
            predicted = await executor_amount_out(
                self.chain, self.executor, self.account, o, order.amount_in, o.block_number
            )
        except Exception:  # the node did not answer: the outcome stands, its forecast unknown
            return order
        return replace(order, predicted_amount_out=predicted)

    def _tx(self, order: Order, nonce: int) -> dict[str, Any]:
        data = encode_execute(
            order.opportunity, min_amount_out=order.amount_in, amount_in=order.amount_in
        )
        return {
            "from": self.account,
            "to": self.executor,
            "data": "0x" + data.hex(),
            "nonce": nonce,
            "gas": max(MIN_GAS, order.opportunity.gas_units * GAS_HEADROOM),
            "gasPrice": order.opportunity.gas_price_wei,
            "value": 0,
        }

    async def _send(self, tx: dict[str, Any]) -> HexBytes:
        w3 = self.chain.w3
        if self.signer is None:
            return HexBytes(await w3.eth.send_transaction(tx))  # type: ignore[arg-type]
        tx = dict(tx)
        tx.pop("from")
        tx["chainId"] = int(await w3.eth.chain_id)
        signed = self.signer.sign_transaction(tx)
        return HexBytes(await w3.eth.send_raw_transaction(signed.raw_transaction))


def _net_profit(opportunity: Opportunity) -> int:
    return opportunity.net_profit


def _reason(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:200]
