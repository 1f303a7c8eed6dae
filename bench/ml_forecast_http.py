"""The ML service's `POST /api/forecast/gas` under wrk from this process (loopback): p50/p99 at
1 and 8 connections, the whole request path including titan_common's middleware; `GET /health`
beside it, where the middleware is nearly all the work.

`uv run python bench/ml_forecast_http.py [--seconds 10] [--data-dir data]` prints JSON; the
data dir must hold trained models (`make up` or `titan-ml train` writes them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from engine_http import wrk  # noqa: E402

from titan_devnet.anvil import free_port  # noqa: E402
from titan_ml.forecast.history import load_base_fee_csv  # noqa: E402

CONNECTIONS = (1, 8)


def body(shared_data: Path) -> dict[str, Any]:
    """A forecast request carrying the last 64 blocks of the real base-fee file."""
    history = load_base_fee_csv(shared_data / "may_2023_pepe_crisis_data.csv").tail(64)
    return {
        "chain_id": 31337,
        "fee_history": {
            "oldest_block": history.oldest_block,
            "base_fee_per_gas": [str(int(v)) for v in history.base_fee],
            "gas_used_ratio": [float(v) for v in history.gas_used_ratio],
        },
    }


def run(data_dir: Path, shared_data: Path, seconds: int) -> dict[str, Any]:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ML_PORT": str(port),
        "ML_DATA_DIR": str(data_dir.resolve()),
        "TITAN_SHARED_DATA": str(shared_data.resolve()),
        "TITAN_CONFIG_FILE": os.devnull,
        "LOG_LEVEL": "WARNING",
        # an A/B run may put another titan_common first on the path
        **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}),
    }
    server = subprocess.Popen([sys.executable, "-m", "titan_ml", "serve"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the ML service did not become ready")
            time.sleep(0.1)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(body(shared_data), f)
        check = httpx.post(f"{url}/api/forecast/gas", content=Path(f.name).read_bytes(),
                           headers={"content-type": "application/json"})  # fmt: skip
        check.raise_for_status()
        runs = {}
        # GET /health beside it: the same middleware around an empty handler.
        targets = {"forecast": ("/api/forecast/gas", Path(f.name)), "health": ("/health", None)}
        for name, (path, payload) in targets.items():
            for c in CONNECTIONS:
                r = wrk(f"{url}{path}", c, seconds, payload)
                keys = ("requests", "rps", "p50_us", "p99_us", "non_2xx")
                runs[f"{name}_c{c}"] = {k: r[k] for k in keys}
        Path(f.name).unlink()
        return {"model": check.json()["model"], "runs": runs}
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--data-dir", type=Path, default=Path("data"))
    p.add_argument("--shared-data", type=Path,
                   default=Path(os.environ.get("TITAN_SHARED_DATA", "../shared/data")))  # fmt: skip
    args = p.parse_args()
    print(json.dumps(run(args.data_dir, args.shared_data, args.seconds), indent=1))


if __name__ == "__main__":
    main()
