"""Pool filters: bounded in size, so a client cannot make every update match a huge list."""

from __future__ import annotations

import pytest

from titan_common.errors import TitanError
from titan_ingest.api.filters import MAX_FILTER_VALUES, parse_filter


def addresses(n: int) -> list[str]:
    return [f"0x{i:040x}" for i in range(1, n + 1)]


def test_a_filter_at_the_limit_is_taken() -> None:
    pools = addresses(MAX_FILTER_VALUES - 1)
    wanted = parse_filter([",".join(pools[:10]), *pools[10:]], None, ["uniswap_v2"])
    assert len(wanted.pools) == MAX_FILTER_VALUES - 1


def test_a_filter_over_the_limit_is_422_naming_it() -> None:
    tokens = addresses(MAX_FILTER_VALUES)
    with pytest.raises(TitanError) as refused:
        parse_filter(None, [",".join(tokens)], ["uniswap_v3"])
    err = refused.value
    assert (err.status, err.code) == (422, "filter_too_large")
    assert str(MAX_FILTER_VALUES) in err.message and err.details["got"] == MAX_FILTER_VALUES + 1
