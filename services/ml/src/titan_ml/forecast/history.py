"""Fee history in the shape of `eth_feeHistory`, loaded from the shipped data or a collected file.

Like `eth_feeHistory`, `base_fee` has one entry more than `gas_used_ratio`: block i has
`base_fee[i]` and `gas_used_ratio[i]` (gas used / gas limit), and the last base fee is the next
block's, which the EIP-1559 rule fixes from the last block. The shipped base-fee file has no gas
used, so it is derived from consecutive base fees: block i's ratio comes from block i+1's base
fee, which is known once block i is mined, and never from anything later.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import numpy as np
import numpy.typing as npt

ELASTICITY = 2  # gas limit / gas target
CHANGE_DENOMINATOR = 8  # EIP-1559 BASE_FEE_MAX_CHANGE_DENOMINATOR

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FeeHistory:
    """Blocks `oldest_block ..`: base fees (n + 1, wei), gas used ratios (n), and optionally
    timestamps (n, unix seconds) and priority-fee rewards (n x percentiles, wei)."""

    oldest_block: int
    base_fee: FloatArray
    gas_used_ratio: FloatArray
    timestamps: FloatArray | None = None
    reward: FloatArray | None = None
    reward_percentiles: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if len(self.base_fee) != len(self.gas_used_ratio) + 1:
            raise ValueError("base_fee must have one entry more than gas_used_ratio")
        if self.timestamps is not None and len(self.timestamps) != len(self.gas_used_ratio):
            raise ValueError("timestamps must have one entry per block")
        if self.reward is not None and len(self.reward) != len(self.gas_used_ratio):
            raise ValueError("reward must have one row per block")

    @property
    def blocks(self) -> int:
        return len(self.gas_used_ratio)

    @property
    def last_block(self) -> int:
        return self.oldest_block + self.blocks - 1

    def tail(self, blocks: int) -> FeeHistory:
        """The last `blocks` blocks (and the next block's base fee)."""
        start = max(0, self.blocks - blocks)
        return FeeHistory(
            self.oldest_block + start,
            self.base_fee[start:],
            self.gas_used_ratio[start:],
            None if self.timestamps is None else self.timestamps[start:],
            None if self.reward is None else self.reward[start:],
            self.reward_percentiles,
        )

    def head(self, blocks: int) -> FeeHistory:
        """The first `blocks` blocks (and the base fee of the block after them)."""
        n = min(blocks, self.blocks)
        return FeeHistory(
            self.oldest_block,
            self.base_fee[: n + 1],
            self.gas_used_ratio[:n],
            None if self.timestamps is None else self.timestamps[:n],
            None if self.reward is None else self.reward[:n],
            self.reward_percentiles,
        )

    def extended(self, newer: FeeHistory) -> FeeHistory:
        """These blocks, then `newer`'s, which wins where both have a block (a reorg rewrote
        it); `newer` alone when the two do not join (a gap, or it reaches further back)."""
        keep = newer.oldest_block - self.oldest_block
        same_rewards = (self.reward is None) == (newer.reward is None) and (
            self.reward_percentiles == newer.reward_percentiles
        )
        if not 0 <= keep <= self.blocks or not same_rewards:
            return newer
        timestamps = None
        if self.timestamps is not None and newer.timestamps is not None:
            timestamps = np.concatenate([self.timestamps[:keep], newer.timestamps])
        reward = None
        if self.reward is not None and newer.reward is not None:
            reward = np.concatenate([self.reward[:keep], newer.reward])
        return FeeHistory(
            self.oldest_block,
            np.concatenate([self.base_fee[:keep], newer.base_fee]),
            np.concatenate([self.gas_used_ratio[:keep], newer.gas_used_ratio]),
            timestamps,
            reward,
            newer.reward_percentiles,
        )


def next_base_fee(base_fee: int, gas_used_ratio: float) -> int:
    """EIP-1559: the next block's base fee from this block's base fee and gas used / limit."""
    target = 15_000_000
    gas_used = round(gas_used_ratio * target * ELASTICITY)
    if gas_used == target:
        return base_fee
    if gas_used > target:
        delta = max(base_fee * (gas_used - target) // target // CHANGE_DENOMINATOR, 1)
        return base_fee + delta
    return base_fee - base_fee * (target - gas_used) // target // CHANGE_DENOMINATOR


def derive_gas_used_ratio(base_fee: FloatArray) -> FloatArray:
    """Gas used / limit of each block but the last, from the next block's base fee."""
    change = np.diff(base_fee) / base_fee[:-1]
    return np.clip((1.0 + CHANGE_DENOMINATOR * change) / ELASTICITY, 0.0, 1.0)


def from_base_fees(
    base_fee: FloatArray, oldest_block: int, timestamps: FloatArray | None = None
) -> FeeHistory:
    """A fee history from consecutive base fees alone (the shipped file's case)."""
    base_fee = np.asarray(base_fee, dtype=np.float64)
    ratio = derive_gas_used_ratio(base_fee)
    ts = None if timestamps is None else np.asarray(timestamps[:-1], dtype=np.float64)
    return FeeHistory(oldest_block, base_fee, ratio, ts)


def load_base_fee_csv(path: Path) -> FeeHistory:
    """The shipped per-block base-fee file (`timestamp, basefee_wei, basefee_gwei, block_number`)
    or a file written by `collect` (`block_number, base_fee_wei, gas_used_ratio, ...`)."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"{path}: no rows")
    if "gas_used_ratio" in rows[0]:
        return _collected(rows)
    blocks = [int(r["block_number"], 0) for r in rows]
    if any(b - a != 1 for a, b in pairwise(blocks)):
        raise ValueError(f"{path}: block numbers are not contiguous")
    fees = np.array([float(int(r["basefee_wei"])) for r in rows])
    ts = np.array([_unix(r["timestamp"]) for r in rows])
    return from_base_fees(fees, blocks[0], ts)


def _collected(rows: list[dict[str, str]]) -> FeeHistory:
    # The last row carries only the next block's base fee (empty ratio).
    blocks = [int(r["block_number"]) for r in rows]
    if any(b - a != 1 for a, b in pairwise(blocks)):
        raise ValueError("collected fee history: block numbers are not contiguous")
    fees = np.array([float(int(r["base_fee_wei"])) for r in rows])
    ratios = np.array([float(r["gas_used_ratio"]) for r in rows[:-1]])
    percentiles = tuple(float(k[len("reward_p") :]) for k in rows[0] if k.startswith("reward_p"))
    reward = None
    if percentiles:
        reward = np.array([[float(r[f"reward_p{p:g}"]) for p in percentiles] for r in rows[:-1]])
    return FeeHistory(blocks[0], fees, ratios, None, reward, percentiles)


def _unix(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


def synthetic(blocks: int, seed: int = 0, start_fee: float = 30e9) -> FeeHistory:
    """An EIP-1559 chain whose demand is autocorrelated and falls as the fee rises (so the fee
    wanders around `start_fee` instead of drifting away): for `--synthetic` only."""
    rng = np.random.default_rng(seed)
    level = 0.5
    fees = [start_fee]
    ratio = np.zeros(blocks)
    for i in range(blocks):
        level = 0.97 * level + 0.03 * 0.5 + rng.normal(0, 0.05)
        pressure = 0.5 * math.log(fees[-1] / start_fee)
        ratio[i] = min(max(level - pressure + rng.normal(0, 0.15), 0.0), 1.0)
        fees.append(float(next_base_fee(int(fees[-1]), float(ratio[i]))))
    ts = 1_700_000_000.0 + 12.0 * np.arange(blocks, dtype=np.float64)
    return FeeHistory(1, np.array(fees), ratio, ts)
