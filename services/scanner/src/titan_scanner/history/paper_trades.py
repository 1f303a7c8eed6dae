"""Paper trades to and from their rows: big integers as decimal strings, as everywhere here."""

from __future__ import annotations

from titan_scanner.history.models import PaperTradeRow
from titan_scanner.verify.paper import PaperTrade

_AMOUNTS = (
    "gas_price_bid_wei",
    "amount_in",
    "predicted_amount_out",
    "realized_amount_out",
    "realized_profit",
    "effective_gas_price_wei",
    "gas_cost_wei",
)


def to_row(trade: PaperTrade) -> PaperTradeRow:
    values = trade.model_dump()
    for name in _AMOUNTS:
        values[name] = None if values[name] is None else str(values[name])
    return PaperTradeRow(**values)


def from_row(row: PaperTradeRow) -> PaperTrade:
    names = PaperTrade.model_fields
    return PaperTrade.model_validate({name: getattr(row, name) for name in names})
