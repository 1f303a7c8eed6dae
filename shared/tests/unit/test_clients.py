"""The service clients' JSON encoding: fast, and exact for every integer."""

from __future__ import annotations

import json

from titan_common.clients import _encode


def test_small_integers_and_nested_bodies_encode_as_json() -> None:
    body = {"cycles": [{"id": "c1", "hops": [{"pool": {"reserve0": "123"}, "zero_for_one": True}]}]}
    assert json.loads(_encode(body)) == body


def test_integers_past_64_bits_stay_exact() -> None:
    big = 2**255 - 19  # orjson refuses it: the stdlib encodes it, digit for digit
    body = {"amount": big, "negative": -(2**70)}
    encoded = _encode(body)
    assert str(big).encode() in encoded
    assert json.loads(encoded) == body
