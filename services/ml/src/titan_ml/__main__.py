"""`titan-ml` / `python -m titan_ml`: serve (default), train, collect fee history, bench."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from pydantic import ValidationError

from titan_common.logging import configure
from titan_ml.settings import MlSettings


def _settings(data_dir: str | None = None) -> MlSettings:
    settings = MlSettings()
    if data_dir is not None:
        settings = settings.model_copy(update={"ml_data_dir": Path(data_dir)})
    return settings


def _serve(settings: MlSettings) -> int:
    import uvicorn

    from titan_common.heap import freeze_after_startup
    from titan_ml.app import create_app

    uvicorn.run(
        freeze_after_startup(create_app(settings)),
        host=settings.ml_bind_addr,
        port=settings.ml_port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )
    return 0


def _train(settings: MlSettings, args: argparse.Namespace) -> int:
    from rich.console import Console

    from titan_ml.training.console import RichProgress, print_summary, progress_bars
    from titan_ml.training.pipeline import TrainOptions, train_all

    console = Console(stderr=False)
    options = TrainOptions(
        samples=args.samples,
        episodes=args.episodes,
        synthetic=args.synthetic,
        history_file=Path(args.history) if args.history else None,
    )
    with progress_bars(console) as bars:
        summary = train_all(settings, options, RichProgress(bars))
    print_summary(console, summary)
    console.print(f"models in {settings.models_dir}")
    return 0


def _collect(settings: MlSettings, args: argparse.Namespace) -> int:
    from titan_ml.forecast.collect import collect_to_file

    out = Path(args.out) if args.out else settings.collected_history_file
    rows = asyncio.run(
        collect_to_file(
            settings.chain_rpc_url,
            args.blocks,
            out,
            progress=True,
            rpc_timeout=settings.ml_rpc_timeout,
        )
    )
    print(f"{rows} blocks of fee history in {out}")
    return 0


def _bench(settings: MlSettings, args: argparse.Namespace) -> int:
    from titan_ml.bench import run_bench

    results = run_bench(settings, iterations=args.iterations, train=not args.no_train)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="titan-ml", description=__doc__)
    sub = p.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve the HTTP API (the default)")
    train = sub.add_parser("train", help="train the forecaster and the agent, write the models")
    add_train_arguments(train)
    collect = sub.add_parser("collect", help="collect fee history from CHAIN_RPC_URL")
    collect.add_argument("--blocks", type=int, default=2048)
    collect.add_argument("--out", default=None, help="default: ML_DATA_DIR/fee_history.csv")
    collect.add_argument("--data-dir", default=None)
    bench = sub.add_parser("bench", help="forecast/action latency in process and over HTTP")
    bench.add_argument("--iterations", type=int, default=2000)
    bench.add_argument("--no-train", action="store_true", help="use the models already trained")
    bench.add_argument("--data-dir", default=None)
    bench.add_argument("--json", default=None, help="also write the results to this file")
    return p


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--samples", type=int, default=None, help="last N blocks of fee history")
    p.add_argument("--episodes", type=int, default=400, help="Q-learning training episodes")
    p.add_argument("--data-dir", default=None, help="where models go (default ML_DATA_DIR)")
    p.add_argument("--synthetic", action="store_true", help="train on synthetic fee history")
    p.add_argument("--history", default=None, help="a fee-history CSV (default: shipped data)")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = _settings(getattr(args, "data_dir", None))
    except ValidationError as exc:
        print(f"titan-ml: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    configure(settings.log_level, settings.log_format, settings.secrets())
    command = args.command or "serve"
    if command == "train":
        return _train(settings, args)
    if command == "collect":
        return _collect(settings, args)
    if command == "bench":
        return _bench(settings, args)
    return _serve(settings)


if __name__ == "__main__":
    sys.exit(main())
