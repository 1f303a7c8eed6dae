"""Reading the engine's batch answer: exact numbers, one bad item never spoils the others."""

from __future__ import annotations

from typing import Any

import pytest

from titan_scanner.pricing.engine import CycleFailure, CycleQuote, _answers, parse_answer

BIG = 2**200 + 12345  # past what a float or a 64-bit integer holds


def _quote(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": "0xpool:1|0xother:0",
        "amount_in": str(BIG),
        "amount_out": str(BIG - 7),
        "gross_profit": "-7",
        "hops": [
            {"amount_in": str(BIG), "amount_out": "5"},
            {"amount_in": "5", "amount_out": str(BIG - 7)},
        ],
    }
    item.update(changes)
    return item


def test_a_quote_keeps_every_number_exact() -> None:
    assert parse_answer(_quote()) == CycleQuote(BIG, BIG - 7, -7, ((BIG, 5), (5, BIG - 7)))


def test_the_engines_error_for_a_cycle_is_its_failure() -> None:
    item = {"id": "x", "error": {"code": "insufficient_tick_data", "message": "past the ticks"}}
    assert parse_answer(item) == CycleFailure("insufficient_tick_data", "past the ticks")


@pytest.mark.parametrize(
    "bad",
    [
        {"amount_in": "1.5"},
        {"amount_in": "-1"},
        {"amount_out": 2.0**70},
        {"gross_profit": str(2**255)},
        {"amount_in": str(2**256)},
        {"hops": [{"amount_in": "1"}]},
        {"hops": None},
    ],
)
def test_a_malformed_item_fails_alone(bad: dict[str, Any]) -> None:
    answers = _answers({"results": [_quote(), _quote(**bad), _quote()]}, 3)
    assert isinstance(answers[0], CycleQuote) and isinstance(answers[2], CycleQuote)
    assert isinstance(answers[1], CycleFailure) and answers[1].code == "unexpected_answer"


def test_an_answer_for_another_count_of_cycles_is_refused() -> None:
    with pytest.raises(ValueError, match="for 2 cycles"):
        _answers({"results": [_quote()]}, 2)


@pytest.mark.parametrize("bad", ["quote", None, [1, 2]])
def test_an_item_that_is_not_an_object_fails_alone(bad: Any) -> None:
    answers = _answers({"results": [_quote(), bad]}, 2)
    assert isinstance(answers[0], CycleQuote)
    assert isinstance(answers[1], CycleFailure) and answers[1].code == "unexpected_answer"
    assert "is an object" in answers[1].message
