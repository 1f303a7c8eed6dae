"""The seed's `train_ml_models.py`, kept as a name that works: `python -m titan_ml.train_ml_models`
(or the `train_ml_models` script) is `titan-ml train` with the same options."""

from __future__ import annotations

import sys

from titan_ml.__main__ import main as titan_ml_main


def main(argv: list[str] | None = None) -> int:
    return titan_ml_main(["train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
