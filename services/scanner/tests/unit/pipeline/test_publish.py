"""`WS /ws/opportunities` messages: one serialisation for every subscriber, the shape the
dashboard and the CLI read, and nothing serialised while nobody listens."""

from __future__ import annotations

from typing import Any

import orjson

from titan_common.models import Opportunity, Verification
from titan_scanner.pipeline.publish import Publisher


def _opportunity(service: Any) -> Opportunity:
    weth, usdc = service.weth, service.usdc
    pool = service.pools.v2(weth, usdc, 100 * 10**18, 200_000 * 10**6)
    big = 2**200 + 7  # past 64 bits: must stay an exact decimal string
    return Opportunity.model_validate(
        {
            "id": "31337-12-abc",
            "chain_id": 31337,
            "block_number": 12,
            "base_token": weth,
            "amount_in": str(big),
            "amount_out": str(big + 5),
            "gross_profit": "5",
            "gas_units": 150_000,
            "gas_price_wei": "1",
            "gas_cost": "1",
            "net_profit": "4",
            "hops": [
                {
                    "pool": pool.address,
                    "dex": "uniswap_v2",
                    "kind": "v2",
                    "fee_bps": 30,
                    "token_in": weth,
                    "token_out": usdc,
                    "amount_in": str(big),
                    "amount_out": "1",
                }
            ],
            "action": {
                "execute": True,
                "size_fraction": 0.5,
                "gas_bid_multiplier": 1.25,
                "source": "rl_agent",
            },
            "verification": {"status": "pending"},
            "detected_at": 1764050000.125,
            "latency_ms": 12.5,
        }
    )


def test_messages_have_the_documented_shape_for_every_subscriber(service: Any) -> None:
    publisher = Publisher()
    first, second = publisher.subscribe(), publisher.subscribe()
    opp = _opportunity(service)
    publisher.opportunity(opp)
    proof = Verification(status="verified", realized_amount_out=opp.amount_out, block_number=12)
    publisher.verification(opp.id, proof)
    for subscriber in (first, second):
        sent = [orjson.loads(subscriber.queue.get_nowait()) for _ in range(2)]
        assert sent[0] == {"type": "opportunity", "data": opp.model_dump(mode="json")}
        assert sent[0]["data"]["amount_in"] == str(2**200 + 7)
        assert sent[1] == {
            "type": "verification",
            "id": opp.id,
            "data": proof.model_dump(mode="json"),
        }
    assert publisher.recent[-1].verification.status == "verified"


def test_nobody_listening_still_keeps_the_recent_opportunities(service: Any) -> None:
    publisher = Publisher(recent_limit=2)
    opp = _opportunity(service)
    for block in (1, 2, 3):
        publisher.opportunity(opp.model_copy(update={"block_number": block}))
    assert [o.block_number for o in publisher.recent] == [2, 3]
