"""`GET /api/paper-trades` pages the outcomes newest first; `/api/stats` counts them."""

from __future__ import annotations

from titan_scanner.testing import Service
from titan_scanner.verify.paper import PaperTrade

BIG = 2**200


def _trade(n: int, landed: bool) -> PaperTrade:
    return PaperTrade(
        opportunity_id=f"31337-{n}-x",
        chain_id=31337,
        account="0x" + "f" * 40,
        tx_hash="0x" + f"{n:02x}" * 32,
        block_found=n,
        block_landed=n + 1,
        status="landed" if landed else "reverted",
        size_fraction=1.0,
        gas_bid_multiplier=1.0,
        gas_price_bid_wei=7,
        amount_in=BIG,
        predicted_amount_out=BIG + 9,
        realized_amount_out=BIG + 9 if landed else None,
        realized_profit=9 if landed else None,
        gas_used=150_000,
        effective_gas_price_wei=7,
        gas_cost_wei=150_000 * 7,
        sent_at=1.0,
    )


async def test_paper_trades_newest_first_with_big_numbers_as_strings(service: Service) -> None:
    empty = (await service.client.get("/api/stats")).json()["paper_trades"]
    assert empty == {
        "landed": 0,
        "reverted": 0,
        "failed": 0,
        "dropped": 0,
        "realized_profit_wei": "0",
    }
    for n, landed in ((1, True), (2, False), (3, True)):
        await service.runtime.repository.save_paper_trade(_trade(n, landed))
    first = (await service.client.get("/api/paper-trades", params={"limit": 2})).json()
    assert [t["opportunity_id"] for t in first["items"]] == ["31337-3-x", "31337-2-x"]
    assert first["items"][0]["amount_in"] == str(BIG)
    assert first["items"][0]["realized_profit"] == "9"
    assert first["items"][1]["realized_amount_out"] is None
    rest = (await service.client.get("/api/paper-trades", params={"cursor": first["next"]})).json()
    assert [t["opportunity_id"] for t in rest["items"]] == ["31337-1-x"] and rest["next"] is None
    counts = (await service.client.get("/api/stats")).json()["paper_trades"]
    assert counts == {
        "landed": 2,
        "reverted": 1,
        "failed": 0,
        "dropped": 0,
        "realized_profit_wei": "18",
    }
    bad = await service.client.get("/api/paper-trades", params={"cursor": "x"})
    assert bad.status_code == 422
