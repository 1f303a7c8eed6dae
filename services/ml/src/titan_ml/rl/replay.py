"""The scanner's opportunities replayed on the chain that found them (`titan replay`'s file).

Each row is a verified opportunity and, for each of the agent's size fractions, the executor's
amount out at the opportunity's block and at the block after (empty: the call reverted), with
the gas price the scanner priced it at (before the policy's bid). The rows come oldest first.
"""

from __future__ import annotations

import csv
from pathlib import Path

from titan_ml.rl.opportunity import Opportunity
from titan_ml.rl.state import SIZE_FRACTIONS


def _gross(row: dict[str, str], column: str, size: int) -> int | None:
    out = row[column]
    return None if out == "" else int(out) - size


def load_replay(path: Path) -> list[Opportunity]:
    """The file's opportunities in time order; a missing column says which."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for number, row in enumerate(rows, start=2):
        try:
            first, late = [], []
            for f in SIZE_FRACTIONS:
                size = int(row[f"size_{f:g}"])
                first.append(_gross(row, f"out_at_block_{f:g}", size))
                late.append(_gross(row, f"out_late_{f:g}", size))
            out.append(
                Opportunity(
                    int(row["block_number"]),
                    int(row["amount_in"]),
                    int(row["gross_profit"]),
                    int(row["gas_units"]),
                    float(row["gas_price_wei"]),
                    tuple(first),
                    tuple(late),
                )
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{path}, line {number}: {exc!r}") from exc
    return out
