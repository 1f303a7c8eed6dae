"""Answering a forecast request: the history (given or the chain's), the model or the baseline."""

from __future__ import annotations

import numpy as np

from titan_common.errors import InvalidInputError, UpstreamUnavailableError
from titan_common.jsonrpc import ChainError
from titan_ml.api.schemas import FeeHistoryIn, ForecastRequest, ForecastResponse, HorizonOut
from titan_ml.forecast.collect import FeeHistorySource
from titan_ml.forecast.history import FeeHistory
from titan_ml.forecast.model import HorizonForecast, baseline_forecast
from titan_ml.serving.registry import Loaded, ModelRegistry
from titan_ml.settings import MlSettings

PRIORITY_WINDOW = 16  # blocks whose rewards the priority-fee forecast takes the median of


def history_from_body(body: FeeHistoryIn) -> FeeHistory:
    if len(body.base_fee_per_gas) != len(body.gas_used_ratio) + 1:
        raise InvalidInputError(
            "fee_history: base_fee_per_gas needs one entry more than gas_used_ratio",
            {
                "base_fee_per_gas": len(body.base_fee_per_gas),
                "gas_used_ratio": len(body.gas_used_ratio),
            },
            code="invalid_fee_history",
        )
    if min(body.base_fee_per_gas) <= 0:
        raise InvalidInputError(
            "fee_history: base fees must be positive", code="invalid_fee_history"
        )
    blocks = len(body.gas_used_ratio)
    reward = None
    percentiles: tuple[float, ...] = ()
    if body.reward:
        if len(body.reward) != blocks or len({len(r) for r in body.reward}) != 1:
            raise InvalidInputError(
                "fee_history: reward needs one equal-length row per block",
                code="invalid_fee_history",
            )
        reward = np.asarray(body.reward, dtype=np.float64)
        percentiles = tuple(
            body.reward_percentiles or np.linspace(0, 100, reward.shape[1]).round(1).tolist()
        )
        if len(percentiles) != reward.shape[1]:
            raise InvalidInputError(
                "fee_history: one reward percentile per reward column", code="invalid_fee_history"
            )
    timestamps = None
    if body.timestamps is not None:
        if len(body.timestamps) != blocks:
            raise InvalidInputError(
                "fee_history: one timestamp per block", code="invalid_fee_history"
            )
        timestamps = np.asarray(body.timestamps, dtype=np.float64)
    return FeeHistory(
        body.oldest_block,
        np.asarray(body.base_fee_per_gas, dtype=np.float64),
        np.asarray(body.gas_used_ratio, dtype=np.float64),
        timestamps,
        reward,
        percentiles,
    )


def _priority(history: FeeHistory) -> tuple[int, dict[str, int]] | None:
    if history.reward is None or not history.reward_percentiles:
        return None
    recent = np.median(history.reward[-PRIORITY_WINDOW:], axis=0)
    quantiles = {f"p{p:g}": int(v) for p, v in zip(history.reward_percentiles, recent, strict=True)}
    middle = int(np.argmin([abs(p - 50) for p in history.reward_percentiles]))
    return int(recent[middle]), quantiles


class ForecastService:
    def __init__(
        self, settings: MlSettings, registry: ModelRegistry, source: FeeHistorySource
    ) -> None:
        self.settings, self.registry, self.source = settings, registry, source
        # The last answer from the chain's own history, per horizons asked, with the history
        # and models it came from: the same give the same answer. The head follower computes
        # it as each block arrives (`warm`), so the scanner's request finds it made (the
        # model's features and trees take ~0.5 ms that were on the block's path).
        self._answers: dict[tuple[int, ...], tuple[FeeHistory, Loaded, ForecastResponse]] = {}

    def horizons(self, request: ForecastRequest) -> list[int]:
        top = self.settings.ml_max_horizon
        if request.horizon is None:
            return list(range(1, top + 1))
        if request.horizon > top:
            raise InvalidInputError(
                f"horizon must be between 1 and {top}",
                {"horizon": request.horizon, "max": top},
                code="horizon_out_of_range",
            )
        return [request.horizon]

    async def forecast(self, request: ForecastRequest) -> ForecastResponse:
        if request.chain_id != self.settings.chain_id:
            raise InvalidInputError(
                f"unknown chain {request.chain_id}: this service forecasts chain "
                f"{self.settings.chain_id}",
                {"chain_id": request.chain_id, "known": [self.settings.chain_id]},
                code="unknown_chain",
            )
        horizons = self.horizons(request)
        if request.fee_history is not None:
            history = history_from_body(request.fee_history)
        else:
            try:
                history = await self.source.latest(request.block_number)
            except ChainError as exc:
                raise UpstreamUnavailableError("chain", str(exc)) from exc
            return self.chain_answer(history, horizons)
        return self.answer(request.chain_id, history, horizons)

    def chain_answer(self, history: FeeHistory, horizons: list[int]) -> ForecastResponse:
        """`answer` for the chain's history, made once per history, horizons and models."""
        key = tuple(horizons)
        loaded = self.registry.current
        made = self._answers.get(key)
        if made is not None and made[0] is history and made[1] is loaded:
            return made[2]
        response = self.answer(self.settings.chain_id, history, horizons)
        self._answers[key] = (history, loaded, response)
        return response

    def warm(self, history: FeeHistory) -> None:
        """The next block's forecast as the scanner asks for it (horizon 1), made ahead."""
        self.chain_answer(history, [1])

    def answer(self, chain_id: int, history: FeeHistory, horizons: list[int]) -> ForecastResponse:
        loaded = self.registry.current
        forecaster = loaded.forecaster
        reason = None
        if forecaster is not None and float(history.base_fee.min()) <= 0.0:
            rows = baseline_forecast(history, horizons)
            span, model = None, "baseline_eip1559"
            reason = "a base fee of zero in the history (no EIP-1559?): the model needs ratios"
        elif forecaster is not None:
            rows = forecaster.predict(history, horizons)
            span = forecaster.metadata.get("data_span")
            model = "ensemble" if any(r.model == "ensemble" for r in rows) else rows[0].model
            if model != "ensemble" and horizons != [1]:
                reason = f"fee history shorter than the model's window: {history.blocks} blocks"
        else:
            rows = baseline_forecast(history, horizons)
            span, model, reason = None, "baseline_eip1559", loaded.forecaster_message
        priority = _priority(history)
        return ForecastResponse(
            chain_id=chain_id,
            model=model,
            model_reason=reason,
            last_block=history.last_block,
            next_base_fee_wei=int(history.base_fee[-1]),
            training_span=span,
            forecasts=[_out(r, priority) for r in rows],
        )


def _out(row: HorizonForecast, priority: tuple[int, dict[str, int]] | None) -> HorizonOut:
    return HorizonOut(
        horizon=row.horizon,
        block_number=row.block_number,
        base_fee_wei=row.base_fee_wei,
        quantiles=row.quantiles,
        model=row.model,
        priority_fee_wei=None if priority is None else priority[0],
        priority_fee_quantiles=None if priority is None else priority[1],
    )
