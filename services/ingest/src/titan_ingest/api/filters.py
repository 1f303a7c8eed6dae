"""Pool filters from query parameters (`pool`, `token`, `dex`; repeated or comma-separated)."""

from __future__ import annotations

from typing import get_args

from titan_common.errors import InvalidInputError
from titan_common.models import Dex, parse_address
from titan_ingest.publish.hub import PoolFilter

DEXES = frozenset(get_args(Dex))
# Values in one filter (pools, tokens and dexes together): bounds what a client makes every
# update be matched against.
MAX_FILTER_VALUES = 1000


def _split(values: list[str] | None) -> list[str]:
    return [part.strip() for v in values or [] for part in v.split(",") if part.strip()]


def _addresses(name: str, values: list[str] | None) -> frozenset[str]:
    out = set()
    for value in _split(values):
        try:
            out.add(parse_address(value))
        except ValueError:
            raise InvalidInputError(
                f"{name} is not an address: {value!r}",
                {"field": name, "value": value},
                code="invalid_address",
            ) from None
    return frozenset(out)


def parse_filter(
    pool: list[str] | None, token: list[str] | None, dex: list[str] | None
) -> PoolFilter:
    given = sum(len(_split(values)) for values in (pool, token, dex))
    if given > MAX_FILTER_VALUES:
        raise InvalidInputError(
            f"a filter takes at most {MAX_FILTER_VALUES} values, got {given}",
            {"limit": MAX_FILTER_VALUES, "got": given},
            code="filter_too_large",
        )
    dexes = frozenset(_split(dex))
    unknown = sorted(dexes - DEXES)
    if unknown:
        raise InvalidInputError(
            f"unknown dex: {', '.join(unknown)}",
            {"field": "dex", "value": unknown, "allowed": sorted(DEXES)},
            code="invalid_filter",
        )
    return PoolFilter(_addresses("pool", pool), _addresses("token", token), dexes)
