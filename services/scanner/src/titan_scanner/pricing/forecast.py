"""The gas price for the next block: the ML forecast, asked once per block and cached.

When the ML service is down or too slow: the chain's own fee history (the next block's base
fee is known exactly from `eth_feeHistory`), else the last ML forecast marked stale. The
quote always says where it came from.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Any

import structlog

from titan_common.clients import ClientError, MlClient
from titan_scanner.chain import ChainReader
from titan_scanner.pricing.gas import GasQuote

_log = structlog.get_logger("scanner.gas")

_BASE_KEYS = ("base_fee_wei", "base_fee_per_gas", "base_fee")
_PRIORITY_KEYS = ("priority_fee_wei", "priority_fee_per_gas", "priority_fee")


def _wei(value: Any) -> int:
    """A forecast number as integer wei (a model's output may be fractional; rounded up)."""
    if isinstance(value, dict):  # {"point": ..., "quantiles": ...}
        value = value.get("point", value.get("value"))
    if isinstance(value, str):
        return int(value) if value.isdigit() else -int(-float(value) // 1)
    if isinstance(value, int | float):
        return -int(-value // 1)
    raise ValueError(f"not a fee: {value!r}")


def _first(entry: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in entry:
            return entry[key]
    raise KeyError(keys[0])


def parse_forecast(body: dict[str, Any]) -> tuple[int, int, str]:
    """(base fee wei, priority fee wei, model) for the first horizon of an ML answer."""
    entries = body.get("forecasts") or body.get("horizons") or [body]
    entry = entries[0] if isinstance(entries, list) else next(iter(entries.values()))
    base = _wei(_first(entry, _BASE_KEYS))
    try:
        raw_priority = _first(entry, _PRIORITY_KEYS)
    except KeyError:
        raw_priority = None
    priority = 0 if raw_priority is None else _wei(raw_priority)
    return base, priority, str(body.get("model", "ml"))


class GasForecaster:
    """One quote per block; the ML forecast first, then the chain, then the last one stale."""

    def __init__(
        self,
        ml: MlClient | None,
        chain: ChainReader | None,
        chain_id: int,
        ml_available: Any = None,
    ) -> None:
        self.ml = ml
        self.chain = chain
        self.chain_id = chain_id
        self._ml_available = ml_available or (lambda: True)
        self._cache: dict[int, GasQuote] = {}
        self._last_ml: GasQuote | None = None
        # The quotes that priced a block, each beside the base fee the chain then realised
        # (filled in later by the runtime), for the dashboard's forecast-vs-realised chart.
        self.points: deque[dict[str, Any]] = deque(maxlen=240)
        self.sources: Counter[str] = Counter()  # blocks quoted, by the quote's source
        self.ml_failures = 0  # forecast calls that failed or timed out (SCANNER_ML_TIMEOUT)

    def cached(self, block_number: int) -> GasQuote | None:
        return self._cache.get(block_number)

    def history(self) -> list[GasQuote]:
        return [self._cache[b] for b in sorted(self._cache)]

    def note_used(self, quote: GasQuote) -> None:
        """`quote` priced its block: keep it, once per block, as a forecast of the next."""
        applies_to = quote.block_number + 1
        if self.points and self.points[-1]["block_number"] >= applies_to:
            return
        self.points.append(
            {
                "block_number": applies_to,
                "forecast_base_fee_wei": str(quote.base_fee_wei),
                "gas_price_wei": str(quote.price_wei),
                "source": quote.source,
                "realized_base_fee_wei": None,
            }
        )

    async def for_block(self, block_number: int) -> GasQuote | None:
        quote = self._cache.get(block_number)
        if quote is None:
            quote = await self._fetch(block_number)
            if quote is not None:
                self.sources[quote.source] += 1
                self._cache[block_number] = quote
                for old in [b for b in self._cache if b < block_number - 256]:
                    del self._cache[old]
        return quote

    async def _fetch(self, block_number: int) -> GasQuote | None:
        if self.ml is not None and self._ml_available():
            try:
                base, priority, _ = parse_forecast(
                    await self.ml.forecast_gas(self.chain_id, 1, block_number)
                )
                self._last_ml = GasQuote(block_number, base, priority, "ml")
                return self._last_ml
            except (ClientError, KeyError, ValueError, TypeError, IndexError) as exc:
                self.ml_failures += 1
                _log.warning("scanner.gas.forecast_failed", reason=str(exc))
        if self.chain is not None:
            try:
                _, base, priority = await self.chain.next_base_fee()
                return GasQuote(block_number, base, priority, "fee_history")
            except Exception as exc:  # any transport or node error: fall through to stale
                _log.warning("scanner.gas.fee_history_failed", reason=str(exc))
        if self._last_ml is not None:
            last = self._last_ml
            return GasQuote(
                block_number, last.base_fee_wei, last.priority_fee_wei, "ml_stale", stale=True
            )
        return None
