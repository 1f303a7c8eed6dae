"""`WS /ws/opportunities` messages: one serialisation for every subscriber, the shape the
dashboard and the CLI read; with nobody listening, the recent opportunities are still kept."""

from __future__ import annotations

from typing import Any

import orjson

from titan_common.models import Opportunity, Verification
from titan_scanner.pipeline.publish import Publisher
from titan_scanner.testing import sample_opportunity


def _opportunity(service: Any) -> Opportunity:
    return sample_opportunity(7, 12, 5, service.weth, service.usdc)


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
        assert sent[0]["data"]["amount_in"] == str(2**200 + 7)  # past 64 bits, exact
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
