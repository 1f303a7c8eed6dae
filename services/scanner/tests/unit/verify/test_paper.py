"""Paper trades: the outcome read from a receipt, and no paper trading off the devnet unasked."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from pydantic import ValidationError

from titan_common.models import Opportunity
from titan_scanner.settings import ScannerSettings
from titan_scanner.verify.executor import trade_size
from titan_scanner.verify.paper import QUEUE_LIMIT, TRANSFER_TOPIC, Order, PaperTrader, outcome

WETH = "0x" + "1" * 40
OTHER = "0x" + "2" * 40
EXECUTOR = "0x" + "e" * 40
ACCOUNT = "0x" + "f" * 40
KEY = "0x" + "4c" * 32  # a throwaway key, never a funded one


def _opportunity(
    amount_in: int = 1000, amount_out: int = 1100, size_fraction: float = 1.0
) -> Opportunity:
    hop = {"pool": "0x" + "a" * 40, "dex": "uniswap_v2", "kind": "v2", "fee_bps": 30}
    return Opportunity.model_validate(
        {
            "id": "31337-7-x",
            "chain_id": 31337,
            "block_number": 7,
            "base_token": WETH,
            "amount_in": str(amount_in),
            "amount_out": str(amount_out),
            "gross_profit": str(amount_out - amount_in),
            "gas_units": 169_000,
            "gas_price_wei": "2500000009",
            "gas_cost": "1",
            "net_profit": "1",
            "hops": [
                {
                    **hop,
                    "token_in": WETH,
                    "token_out": OTHER,
                    "amount_in": "1000",
                    "amount_out": "5",
                },
                {
                    **hop,
                    "token_in": OTHER,
                    "token_out": WETH,
                    "amount_in": "5",
                    "amount_out": "1100",
                },
            ],
            "action": {
                "execute": True,
                "size_fraction": size_fraction,
                "gas_bid_multiplier": 1.25,
                "source": "default",
            },
            "verification": {"status": "pending"},
            "detected_at": 0.0,
            "latency_ms": 0.0,
        }
    )


def _word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


def _transfer(token: str, sender: str, to: str, amount: int) -> dict[str, Any]:
    topics = [TRANSFER_TOPIC, _word(sender), _word(to)]
    return {"address": token, "topics": topics, "data": amount.to_bytes(32, "big")}


def _receipt(status: int, logs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "status": status,
        "transactionHash": bytes.fromhex("ab" * 32),
        "blockNumber": 9,
        "gasUsed": 150_000,
        "effectiveGasPrice": 2_000_000_007,
        "logs": logs,
    }


def test_a_landed_trade_reads_the_final_transfer_to_the_account() -> None:
    logs = [
        _transfer(WETH, ACCOUNT, EXECUTOR, 1000),  # the pull
        _transfer(WETH, EXECUTOR, "0x" + "a" * 40, 1000),  # paying the first pool
        _transfer(OTHER, "0x" + "a" * 40, EXECUTOR, 5),
        _transfer(WETH, "0x" + "b" * 40, EXECUTOR, 1103),  # the last pool pays the executor
        _transfer(WETH, EXECUTOR, ACCOUNT, 1103),  # and the executor the account
    ]
    trade = outcome(Order.of(_opportunity(), ACCOUNT), EXECUTOR, _receipt(1, logs), sent_at=1.0)
    assert trade.status == "landed"
    assert trade.realized_amount_out == 1103 and trade.realized_profit == 103
    assert trade.predicted_amount_out == 1100 and trade.amount_in == 1000
    assert (trade.block_found, trade.block_landed) == (7, 9)
    assert (trade.size_fraction, trade.gas_bid_multiplier) == (1.0, 1.25)
    assert trade.gas_price_bid_wei == 2_500_000_009
    assert trade.tx_hash == "0x" + "ab" * 32
    assert trade.gas_used == 150_000 and trade.effective_gas_price_wei == 2_000_000_007
    assert trade.gas_cost_wei == 150_000 * 2_000_000_007 and trade.error is None
    dumped = trade.model_dump(mode="json")
    assert dumped["realized_profit"] == "103" and dumped["gas_cost_wei"] == "300000001050000"


def test_hex_string_fields_as_a_node_sends_them_read_the_same() -> None:
    log = _transfer(WETH, EXECUTOR, ACCOUNT, 1001)
    log["topics"] = ["0x" + bytes(t).hex() for t in log["topics"]]
    log["data"] = "0x" + bytes(log["data"]).hex()
    log["address"] = WETH.upper().replace("0X", "0x")
    order = Order.of(_opportunity(), ACCOUNT.upper().replace("0X", "0x"))
    trade = outcome(order, EXECUTOR, _receipt(1, [log]), 1.0)
    assert trade.realized_amount_out == 1001 and trade.realized_profit == 1


def test_a_reverted_trade_has_no_amount_out_but_its_gas() -> None:
    trade = outcome(Order.of(_opportunity(), ACCOUNT), EXECUTOR, _receipt(0, []), sent_at=1.0)
    assert trade.status == "reverted"
    assert trade.realized_amount_out is None and trade.realized_profit is None
    assert trade.gas_cost_wei == 150_000 * 2_000_000_007


def test_a_part_of_the_size_is_judged_against_its_own_input() -> None:
    """At a size fraction the trade's input is that part, and its profit is counted from it."""
    half = _opportunity(size_fraction=0.5)
    assert Order.of(half, ACCOUNT) == Order(half, ACCOUNT, 500, None)  # its pay not known yet
    assert Order.of(_opportunity(), ACCOUNT).predicted_amount_out == 1100  # the proven amount
    logs = [_transfer(WETH, EXECUTOR, ACCOUNT, 552)]
    trade = outcome(Order(half, ACCOUNT, 500, 551), EXECUTOR, _receipt(1, logs), sent_at=1.0)
    assert (trade.amount_in, trade.predicted_amount_out, trade.realized_amount_out) == (
        500,
        551,
        552,
    )
    assert trade.realized_profit == 52 and trade.size_fraction == 0.5


def test_a_landed_trade_without_the_transfer_back_says_so() -> None:
    logs = [
        _transfer(WETH, EXECUTOR, "0x" + "c" * 40, 1100),
        _transfer(OTHER, EXECUTOR, ACCOUNT, 9),
    ]
    trade = outcome(Order.of(_opportunity(), ACCOUNT), EXECUTOR, _receipt(1, logs), sent_at=1.0)
    assert trade.status == "landed" and trade.realized_amount_out is None
    assert trade.error == "no transfer back to the account"


def test_paper_trading_on_the_devnet_needs_no_key(clean_environ: None) -> None:
    settings = ScannerSettings(scanner_paper_trading=True)
    assert settings.chain_id == 31337 and settings.scanner_paper_private_key is None


@pytest.mark.parametrize(
    "extra",
    [{}, {"scanner_paper_trading_real_chain": True}, {"scanner_paper_private_key": KEY}],
    ids=["nothing", "opt-in without key", "key without opt-in"],
)
def test_paper_trading_on_a_real_chain_refuses_to_start(
    clean_environ: None, extra: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as raised:
        ScannerSettings(chain_id=1, scanner_paper_trading=True, **extra)
    message = str(raised.value)
    assert "SCANNER_PAPER_TRADING_REAL_CHAIN=true" in message
    assert "SCANNER_PAPER_PRIVATE_KEY" in message and KEY not in message


def test_paper_trading_on_a_real_chain_with_opt_in_and_key(
    clean_environ: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCANNER_PAPER_PRIVATE_KEY", KEY)
    settings = ScannerSettings(
        chain_id=1, scanner_paper_trading=True, scanner_paper_trading_real_chain=True
    )
    assert KEY not in repr(settings) and KEY in settings.secrets()
    assert ScannerSettings(chain_id=1).scanner_paper_trading is False  # off: nothing asked


def test_the_key_must_be_the_paper_account() -> None:
    signer = Account.from_key(KEY)
    with pytest.raises(ValueError, match="SCANNER_PAPER_ACCOUNT"):
        PaperTrader(None, EXECUTOR, ACCOUNT, signer)  # type: ignore[arg-type]
    assert PaperTrader(None, EXECUTOR, signer.address, signer).account == signer.address  # type: ignore[arg-type]


def test_the_size_fraction_is_applied_in_integers_exactly() -> None:
    big = 2**200 + 3  # far past a float's 53 bits
    assert trade_size(big, 0.25) == big // 4 and trade_size(big, 0.5) == big // 2
    assert trade_size(big, 1.0) == big and trade_size(big, 0.0) == 0
    assert trade_size(1000, 0.3333) == 333


async def test_the_most_profitable_trade_goes_first_and_stale_ones_give_way() -> None:
    trader = PaperTrader(None, EXECUTOR, ACCOUNT)  # type: ignore[arg-type]
    held = _opportunity().model_copy(
        update={"action": _opportunity().action.model_copy(update={"execute": False})}
    )
    trader.offer(held)  # the policy skips it: not queued, not dropped

    def at(block: int, profit: int) -> Opportunity:
        return _opportunity().model_copy(
            update={"block_number": block, "id": f"31337-{block}-{profit}", "net_profit": profit}
        )

    for profit in range(QUEUE_LIMIT + 5):
        trader.offer(at(7, profit))
    assert trader.dropped == 5  # the five least profitable
    assert (await trader._next()).net_profit == QUEUE_LIMIT + 4
    assert (await trader._next()).net_profit == QUEUE_LIMIT + 3
    newer = at(8, 1)
    trader.offer(newer)  # block 7's trades are stale now
    assert trader.dropped == 5 + QUEUE_LIMIT - 2 and await trader._next() == newer
