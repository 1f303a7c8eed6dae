"""`GET /api/paper-trades` pages the outcomes newest first; `/api/stats` counts them."""

from __future__ import annotations

from titan_scanner.testing import Service, sample_paper_trade
from titan_scanner.verify.paper import PaperTrade

BIG = 2**200


def _trade(n: int, landed: bool) -> PaperTrade:
    """Amounts past 2^200, 9 of profit when landed."""
    trade = sample_paper_trade(n, "landed" if landed else "reverted")
    return trade.model_copy(
        update={
            "opportunity_id": f"31337-{n}-x",
            "amount_in": BIG,
            "predicted_amount_out": BIG + 9,
            "realized_amount_out": BIG + 9 if landed else None,
            "realized_profit": 9 if landed else None,
        }
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
