"""Query values the database cannot hold are refused with 422, never a 500 from the driver
(found by tests/fuzz: `block_to=50616042862390745452116967424`)."""

from __future__ import annotations

import pytest

from titan_scanner.api.opportunities import MAX_BLOCK
from titan_scanner.testing import Service


@pytest.mark.parametrize("name", ["block_from", "block_to"])
async def test_block_bounds_past_the_database_integers_are_422(service: Service, name: str) -> None:
    ok = await service.client.get("/api/opportunities", params={name: MAX_BLOCK})
    assert ok.status_code == 200, ok.text
    refused = await service.client.get("/api/opportunities", params={name: MAX_BLOCK + 1})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "validation_failed"
