"""A running scanner's paged lists over HTTP (`{"items": [...], "next": cursor}`), item by item:
the next page is asked for only when the caller reads past this one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx


async def paged_items(
    client: httpx.AsyncClient, path: str, params: dict[str, str | int], page: int
) -> AsyncIterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        query = {**params, "limit": page} | ({"cursor": cursor} if cursor else {})
        body = (await client.get(path, params=query)).raise_for_status().json()
        for item in body["items"]:
            yield item
        cursor = body["next"]
        if cursor is None:
            return
