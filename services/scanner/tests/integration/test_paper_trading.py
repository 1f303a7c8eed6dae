"""Paper trades on the real devnet: the account's balance moves by the recorded profit, to the
wei, at the gas price the opportunity bid; a trade that cannot pay back its input reverts and is
recorded so, costing gas only; a part of the size trades that part, as predicted; a bid below
the base fee is refused."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from prometheus_client import CollectorRegistry

from titan_common.models import Opportunity
from titan_scanner.chain import ChainReader
from titan_scanner.runtime import build_runtime
from titan_scanner.settings import ScannerSettings
from titan_scanner.verify.executor import decode_amounts, encode_execute
from titan_scanner.verify.paper import PaperTrade, PaperTrader

BALANCE_OF = "0x70a08231"


@pytest.fixture
def market(devnet: Any) -> Iterator[Any]:
    """The devnet with its market as this test leaves it undone afterwards."""
    snapshot = devnet.snapshot()
    try:
        yield devnet
    finally:
        devnet.revert(snapshot)


def _balance(devnet: Any, token: str, account: str) -> int:
    data = BALANCE_OF + bytes(12).hex() + account[2:].lower()
    return int.from_bytes(devnet.w3.eth.call({"to": token, "data": data}), "big")


def _cycle(
    devnet: Any,
    first: dict[str, Any],
    second: dict[str, Any],
    amount_in: int,
    size_fraction: float = 1.0,
    gas_price_wei: int | None = None,
) -> Opportunity:
    """A two-hop WETH cycle, first pool then second, shaped as the scanner publishes it; its gas
    price twice the newest base fee unless given."""
    if gas_price_wei is None:
        gas_price_wei = 2 * devnet.w3.eth.get_block("latest")["baseFeePerGas"]
    weth = devnet.manifest["contracts"]["weth"]
    other = first["token1"] if first["token0"] == weth else first["token0"]
    hops = [
        {"pool": p["address"], "dex": p["dex"], "kind": "v2", "fee_bps": 30, "token_in": a,
         "token_out": b, "amount_in": "0", "amount_out": "0"}
        for p, a, b in ((first, weth, other), (second, other, weth))
    ]  # fmt: skip
    shape: dict[str, Any] = {
        "id": f"31337-{devnet.w3.eth.block_number}-{first['address'][2:10].lower()}",
        "chain_id": 31337,
        "block_number": devnet.w3.eth.block_number,
        "base_token": weth,
        "amount_in": str(amount_in),
        "amount_out": "0",
        "gross_profit": "0",
        "gas_units": 45_000 + 2 * 62_000,
        "gas_price_wei": str(gas_price_wei),
        "gas_cost": "0",
        "net_profit": "0",
        "hops": hops,
        "action": {"execute": True, "size_fraction": size_fraction, "gas_bid_multiplier": 1.0,
                   "source": "default"},
        "verification": {"status": "pending"},
        "detected_at": 0.0,
        "latency_ms": 0.0,
    }  # fmt: skip
    opportunity = Opportunity.model_validate(shape)
    executor = devnet.manifest["contracts"]["arb_executor"]
    call = {
        "from": devnet.manifest["verifier"],
        "to": executor,
        "data": encode_execute(opportunity),
    }
    out = decode_amounts(devnet.w3.eth.call(call))[-1]
    return opportunity.model_copy(update={"amount_out": out})


def _diverged(devnet: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """WETH and two V2 pools of the same pair, the other token sold into the first so that
    WETH -> first -> second -> WETH pays."""
    weth = devnet.manifest["contracts"]["weth"]
    pair = [p for p in devnet.pools(kind="v2") if weth in (p["token0"], p["token1"])]
    first, second = pair[0], next(
        p for p in pair[1:] if {p["token0"], p["token1"]} == {pair[0]["token0"], pair[0]["token1"]}
    )  # fmt: skip
    devnet.big_swap(first["address"], 200_000, zero_for_one=first["token0"] != weth)
    return weth, first, second


async def test_paper_trades_land_and_revert_as_recorded(market: Any) -> None:
    devnet = market
    weth, first, second = _diverged(devnet)
    amount_in = 10**18
    profitable = _cycle(devnet, first, second, amount_in)
    assert profitable.amount_out > amount_in, "the big swap made no divergence"
    losing = _cycle(devnet, second, first, amount_in)
    assert losing.amount_out < amount_in

    account = devnet.manifest["verifier"]
    executor = devnet.manifest["contracts"]["arb_executor"]
    chain = ChainReader(devnet.rpc_url, timeout=10)
    trader = PaperTrader(chain, executor, account)
    try:
        before = _balance(devnet, weth, account)
        landed = await trader.trade(profitable)
        after = _balance(devnet, weth, account)
        assert landed.status == "landed", landed.error
        assert landed.realized_amount_out == profitable.amount_out  # nothing mined between
        assert after - before == landed.realized_profit == profitable.amount_out - amount_in
        receipt = devnet.w3.eth.get_transaction_receipt(landed.tx_hash)
        assert landed.block_landed == receipt["blockNumber"] > landed.block_found
        assert landed.gas_cost_wei == receipt["gasUsed"] * receipt["effectiveGasPrice"] > 0
        assert receipt["effectiveGasPrice"] == profitable.gas_price_wei == landed.gas_price_bid_wei

        reverted = await trader.trade(losing)
        assert reverted.status == "reverted" and reverted.tx_hash is not None
        assert reverted.realized_amount_out is None and reverted.realized_profit is None
        assert reverted.gas_used is not None and reverted.gas_used > 0
        assert _balance(devnet, weth, account) == after  # the input came back: only gas spent
        assert devnet.w3.eth.get_transaction_receipt(reverted.tx_hash)["status"] == 0

        # The market moves back before the same opportunity is traded again: it can no
        # longer pay back its input, and reverts.
        devnet.big_swap(first["address"], 400_000, zero_for_one=first["token0"] == weth)
        assert _cycle(devnet, first, second, amount_in).amount_out < amount_in
        stale = await trader.trade(profitable)
        assert stale.status == "reverted" and _balance(devnet, weth, account) == after
        assert stale.block_landed is not None and stale.block_landed > stale.block_found

        # The policy's gas bid below the chain's base fee: the node refuses the transaction.
        base_fee = devnet.w3.eth.get_block("latest")["baseFeePerGas"]
        low = _cycle(devnet, first, second, amount_in, gas_price_wei=base_fee // 2)
        refused = await trader.trade(low)
        assert refused.status == "failed" and refused.tx_hash is None
        assert refused.error is not None and refused.error.startswith("not sent")
        assert _balance(devnet, weth, account) == after
    finally:
        await chain.close()


async def test_a_paper_trade_at_a_size_fraction_trades_that_part(market: Any) -> None:
    devnet = market
    weth, first, second = _diverged(devnet)
    amount_in = 3 * 10**18 + 1
    whole = _cycle(devnet, first, second, amount_in)
    quarter = _cycle(devnet, first, second, amount_in, size_fraction=0.25)
    part = amount_in // 4
    # what a quarter pays now, by the executor itself: more than a quarter of the whole's
    # profit (the price moves less), and not the whole's amount
    part_out = _cycle(devnet, first, second, part).amount_out
    assert part_out - part > (whole.amount_out - amount_in) // 4 > 0

    account = devnet.manifest["verifier"]
    chain = ChainReader(devnet.rpc_url, timeout=10)
    trader = PaperTrader(chain, devnet.manifest["contracts"]["arb_executor"], account)
    try:
        before = _balance(devnet, weth, account)
        traded = await trader.trade(quarter)
        assert traded.status == "landed", traded.error
        assert (traded.size_fraction, traded.amount_in) == (0.25, part)
        assert traded.predicted_amount_out == traded.realized_amount_out == part_out
        assert _balance(devnet, weth, account) - before == traded.realized_profit == part_out - part
    finally:
        await chain.close()


# anvil's well-known test account 1 (the devnet's verifier): a public key, no secret.
ANVIL_KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


async def test_a_signed_paper_trade_lands_and_offered_trades_are_recorded(
    market: Any, tmp_path: Path, clean_environ: None
) -> None:
    """The path of a real chain (signed here with the key) and the runtime's wiring: offered
    opportunities the policy would execute are traded in order and saved in the history."""
    devnet = market
    signer = Account.from_key(ANVIL_KEY_1)
    assert signer.address == devnet.manifest["verifier"]
    settings = ScannerSettings(
        database_url=f"sqlite:///{tmp_path}/scanner.db",
        devnet_manifest=devnet.manifest_path,
        chain_rpc_url=devnet.rpc_url,
        scanner_paper_trading=True,
        scanner_paper_private_key=ANVIL_KEY_1,
        enable_ml_models=False,
    )
    rt = build_runtime(settings, CollectorRegistry())
    paper = rt.scanner.paper
    try:
        assert paper is not None and paper.signer is not None
        assert paper.account == signer.address
        weth, first, second = _diverged(devnet)
        profitable = _cycle(devnet, first, second, 10**18)
        held = profitable.model_copy(
            update={"id": "held", "action": profitable.action.model_copy(update={"execute": False})}
        )
        paper.offer(held)  # the policy would not execute it: not traded
        paper.offer(profitable)
        paper.offer(_cycle(devnet, second, first, 10**18))
        before = _balance(devnet, weth, signer.address)
        worker = asyncio.create_task(paper.run())
        for _ in range(100):
            saved, _ = await rt.repository.paper_trades()
            if len(saved) == 2:
                break
            await asyncio.sleep(0.1)
        worker.cancel()
        # sent one after the other, settled side by side: saved in either order
        by_id = {t.opportunity_id: t for t in saved}
        assert by_id[profitable.id].status == "landed" and len(by_id) == 2
        assert {t.status for t in saved} == {"landed", "reverted"}
        gained = _balance(devnet, weth, signer.address) - before
        assert by_id[profitable.id].realized_profit == gained > 0
        assert (await rt.repository.paper_trade_counts()) == (
            {"landed": 1, "reverted": 1},
            gained,
        )
    finally:
        await rt.stop()


async def test_a_trade_the_node_drops_fails_soon_and_frees_its_nonce(market: Any) -> None:
    """A bid the base fee overtakes before it is mined: anvil drops the transaction. The trade
    fails within seconds, not at the receipt timeout, and the next trade takes its nonce."""
    devnet = market
    _, first, second = _diverged(devnet)
    base_fee = devnet.w3.eth.get_block("latest")["baseFeePerGas"]
    account = devnet.manifest["verifier"]
    chain = ChainReader(devnet.rpc_url, timeout=10)
    trader = PaperTrader(chain, devnet.manifest["contracts"]["arb_executor"], account)
    devnet.rpc("evm_setAutomine", False)
    devnet.rpc("evm_setIntervalMining", 1)
    try:
        outbid = _cycle(devnet, first, second, 10**17, gas_price_wei=2 * base_fee)
        sent = await trader.send(outbid)
        assert not isinstance(sent, PaperTrade), sent.error
        devnet.rpc("anvil_setNextBlockBaseFeePerGas", hex(100 * base_fee))
        started = asyncio.get_running_loop().time()
        dropped = await trader.settle(sent)
        waited = asyncio.get_running_loop().time() - started
        assert dropped.status == "failed" and dropped.tx_hash is not None, dropped
        assert dropped.error is not None and "dropped by the node" in dropped.error
        assert waited < 10
        fee_now = devnet.w3.eth.get_block("latest")["baseFeePerGas"]
        ok = _cycle(devnet, first, second, 10**17, gas_price_wei=3 * fee_now)
        landed = await trader.trade(ok)
        assert landed.status == "landed", landed.error
        nonce = devnet.w3.eth.get_transaction(landed.tx_hash)["nonce"]
        assert nonce == devnet.w3.eth.get_transaction_count(account) - 1
    finally:
        devnet.rpc("evm_setIntervalMining", 0)
        devnet.rpc("evm_setAutomine", True)
        await chain.close()
