"""`titan-devnet up`: deploy (or load the snapshot), start the flow, print `ready`, run until
Ctrl-C or SIGTERM. Bad input is one line on stderr and exit code 2, with nothing left running."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path

from titan_devnet import devnet
from titan_devnet.anvil import PortInUseError
from titan_devnet.artifacts import MissingInstallError
from titan_devnet.flow import MarketFlow, run_forever
from titan_devnet.scenario import ScenarioError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="titan-devnet", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the devnet")
    up.add_argument("--port", type=int, default=8545)
    up.add_argument(
        "--host", default="127.0.0.1", help="address anvil listens on (0.0.0.0 in a container)"
    )
    up.add_argument("--scenario", default="default", help="a name in scenarios/ or a file path")
    up.add_argument("--seed", type=int, default=1)
    up.add_argument("--block-time", type=float, default=1.0, help="seconds; 0 for automine")
    up.add_argument("--no-flow", action="store_true", help="deploy only, no market flow")
    up.add_argument("--manifest", type=Path, default=Path("run/devnet/manifest.json"))
    return parser


class _Stop(Exception):
    pass


def _raise_stop(*_: object) -> None:
    raise _Stop


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not 0 < args.port < 65536:
        print(f"error: --port {args.port} is not a TCP port", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _raise_stop)
    running = None
    stop = threading.Event()
    flow_thread = None
    try:
        running = devnet.start(
            args.port,
            args.scenario,
            args.seed,
            args.manifest,
            args.block_time,
            show_progress=True,
            host=args.host,
        )
        if not args.no_flow:
            flow = MarketFlow(running.w3, running.manifest, seed=args.seed)
            flow_thread = threading.Thread(
                target=run_forever, args=(flow, stop, args.block_time), daemon=True
            )
            flow_thread.start()
        print(f"ready {running.anvil.rpc_url} {args.manifest}", flush=True)
        # Not `stop.wait()`: SIGTERM's handler raises here, and an exception raised between a
        # lock's acquire and the `with` block that releases it (Event.wait holds its condition's
        # lock at moments) left it held: `stop.set()` below then hung for good (seen once in
        # CI). A sleep holds no lock.
        while not stop.is_set():
            time.sleep(0.5)
    except (ScenarioError, PortInUseError, MissingInstallError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        # A second signal (e.g. from both `uv run` and a process-group kill) must not cut the
        # clean-up short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop.set()
        if flow_thread is not None:
            flow_thread.join(timeout=5)
        if running is not None:
            running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
