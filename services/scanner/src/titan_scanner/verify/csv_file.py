"""The CSV files the scanner writes for the ML service's training: rows merged into what is
there by a key, in order, written to a temporary name and renamed (a reader never sees half)."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable
from pathlib import Path

Row = dict[str, str]


def merge_rows(
    path: Path,
    columns: list[str],
    rows: Iterable[Row],
    key: Callable[[Row], str],
    order: Callable[[Row], float],
) -> int:
    """Merge `rows` into the file at `path` (a row with the key of one there replaces it), sorted
    by `order`; returns the file's rows. A file with other columns is another version: refused."""
    merged: dict[str, Row] = {}
    if path.is_file():
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames != columns:
                raise ValueError(f"{path}: not a file of this version (columns differ)")
            merged = {key(row): row for row in reader}
    for row in rows:
        merged[key(row)] = row
    ordered = sorted(merged.values(), key=order)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(ordered)
    tmp.replace(path)
    return len(ordered)
