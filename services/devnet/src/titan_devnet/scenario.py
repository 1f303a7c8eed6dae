"""Scenarios: which tokens, prices, pools and liquidity the devnet deploys, as data files.

A scenario lists markets (a pair on some V2 DEXes and V3 fee tiers) or a generator that draws
them from a seed. `expand` turns either into the concrete list of pools, deterministically.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
V2_DEXES = ("uniswap_v2", "sushiswap", "quickswap")
TICK_SPACING = {500: 10, 3000: 60, 10000: 200}


class ScenarioError(ValueError):
    """A scenario that is unknown or malformed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TokenSpec(_Strict):
    symbol: str
    decimals: Literal[6, 8, 18]
    usd: float = Field(gt=0)


class MarketSpec(_Strict):
    pair: tuple[str, str]
    v2: list[Literal["uniswap_v2", "sushiswap", "quickswap"]] = []
    v3: list[Literal[500, 3000, 10000]] = []
    liquidity_usd: float = Field(gt=0)


class RangeSpec(_Strict):
    lower: int
    upper: int
    weight: float = Field(gt=0, le=1)


class GeneratorSpec(_Strict):
    tokens: int = Field(ge=3, le=200)
    pairs: int = Field(ge=1)
    liquidity_usd: tuple[float, float]


class Scenario(_Strict):
    name: str
    description: str = ""
    tokens: list[TokenSpec] = []
    markets: list[MarketSpec] = []
    generate: GeneratorSpec | None = None
    v3_ranges: list[RangeSpec]
    price_skew_bps: float = Field(0, ge=0, le=500)

    @model_validator(mode="after")
    def _known_symbols(self) -> Scenario:
        symbols = {t.symbol for t in self.tokens}
        for market in self.markets:
            unknown = set(market.pair) - symbols
            if unknown:
                raise ValueError(f"market {market.pair} names unknown tokens {sorted(unknown)}")
        if not self.markets and self.generate is None:
            raise ValueError("a scenario needs markets or a generator")
        return self


class PoolSpec(BaseModel):
    """One pool to deploy: `pair` in scenario order, prices skewed per pool."""

    dex: str
    kind: Literal["v2", "v3"]
    pair: tuple[str, str]
    fee: int  # V2: basis points (30); V3: hundredths of a bip (500, 3000, 10000)
    liquidity_usd: float
    skew: float  # price multiplier of pair[0] in pair[1]


def load(name_or_path: str) -> Scenario:
    path = Path(name_or_path)
    if not path.suffix:
        path = SCENARIO_DIR / f"{name_or_path}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.json")))
        raise ScenarioError(f"unknown scenario {name_or_path!r} (known: {known})")
    try:
        return Scenario.model_validate_json(path.read_text())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ScenarioError(f"malformed scenario {path.name}: {where}: {first['msg']}") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"malformed scenario {path.name}: {exc}") from exc


def expand(scenario: Scenario, seed: int) -> tuple[list[TokenSpec], list[PoolSpec]]:
    """The tokens and pools to deploy; the same scenario and seed give the same list."""
    rng = random.Random(f"{scenario.name}:{seed}")
    tokens, markets = list(scenario.tokens), list(scenario.markets)
    if scenario.generate is not None:
        tokens, markets = _generate(scenario.generate, rng)
    skew = scenario.price_skew_bps / 10_000
    pools: list[PoolSpec] = []
    for market in markets:
        for dex in market.v2:
            pools.append(
                PoolSpec(
                    dex=dex,
                    kind="v2",
                    pair=market.pair,
                    fee=30,
                    liquidity_usd=market.liquidity_usd,
                    skew=1 + rng.uniform(-skew, skew),
                )
            )
        for fee in market.v3:
            pools.append(
                PoolSpec(
                    dex="uniswap_v3",
                    kind="v3",
                    pair=market.pair,
                    fee=fee,
                    liquidity_usd=market.liquidity_usd,
                    skew=1 + rng.uniform(-skew, skew),
                )
            )
    return tokens, pools


def _generate(gen: GeneratorSpec, rng: random.Random) -> tuple[list[TokenSpec], list[MarketSpec]]:
    tokens = [TokenSpec(symbol="WETH", decimals=18, usd=2000.0)]
    for i in range(1, gen.tokens):
        decimals = rng.choice((18, 18, 6, 8))
        tokens.append(
            TokenSpec(symbol=f"TK{i:03d}", decimals=decimals, usd=10 ** rng.uniform(-1, 4))
        )
    symbols = [t.symbol for t in tokens]
    every_pair = [(a, b) for i, a in enumerate(symbols) for b in symbols[i + 1 :]]
    # Every token trades against WETH, so cycles through the base token exist everywhere.
    weth_pairs = [p for p in every_pair if p[0] == "WETH"]
    others = [p for p in every_pair if p[0] != "WETH"]
    rng.shuffle(others)
    chosen = weth_pairs + others[: max(0, gen.pairs - len(weth_pairs))]
    low, high = gen.liquidity_usd
    markets = [
        MarketSpec(
            pair=pair,
            v2=list(V2_DEXES),
            v3=[500, 3000, 10000],
            liquidity_usd=rng.uniform(low, high),
        )
        for pair in chosen
    ]
    return tokens, markets
