"""`make bench`: measure Titan and its baselines in one run; write `bench/results/latest.json`
and the measured sections of `BENCHMARKS.md`.

Sections: pool math side by side (engine, Python reference, Uniswap SDKs, contracts), the
engine over HTTP, each service's own benchmark script, and the whole system end to end
(`bench/e2e.py`, with a PNG of the latency distribution). `--quick` runs a
representative subset.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
# Each service's own benchmark: (argv after `python`, extra argv for --quick, or None to leave
# it out of --quick). Each writes JSON to the file after --json when it supports it; otherwise
# its printed summary is kept.
SERVICE_BENCHES: dict[str, tuple[list[str], list[str] | None]] = {
    "ingest": (
        ["services/ingest/bench/bench_ingest.py", "--scenario", "large", "--json", "{out}"],
        ["--scenario", "default", "--seconds", "5", "--rounds", "1"],
    ),
    # 10,002 pools: the first deploy takes minutes (the devnet caches it for later runs).
    "ingest_xlarge": (
        [
            "services/ingest/bench/bench_ingest.py",
            "--scenario",
            "xlarge",
            "--seconds",
            "20",
            "--rounds",
            "1",
            "--json",
            "{out}",
        ],
        None,
    ),
    "scanner": (
        ["services/scanner/bench/bench_scanner.py", "--json", "{out}"],
        ["--pools", "2000"],
    ),
    "ml": (["-m", "titan_ml", "bench", "--json", "{out}"], ["--iterations", "500"]),
    "e2e": (
        ["bench/e2e.py", "--json", "{out}", "--plot", "bench/results/e2e_latency.png"],
        ["--quick"],
    ),
}
# How long a service's benchmark may run. The e2e plan's own limits add up to ~30 min at worst
# (bench/e2e.py: 400 + 400 + 3 x 240 s of flow, ramps and a devnet per run); it usually takes
# 13-16 min, and 15 min once cut its run short.
TIMEOUT_S = {"e2e": 2400.0}
DEFAULT_TIMEOUT_S = 900.0
# `--only engine` re-runs the pool math and engine-over-HTTP sections
ENGINE = "engine"
sys.path.insert(0, str(BENCH_DIR))

import engine_http  # noqa: E402
import pool_math  # noqa: E402
import report  # noqa: E402


def machine() -> dict[str, Any]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    versions = {}
    for name, argv in {"rustc": ["rustc", "--version"], "node": ["node", "--version"]}.items():
        try:
            versions[name] = subprocess.run(argv, capture_output=True, text=True).stdout.strip()
        except OSError:
            versions[name] = "absent"
    versions["python"] = platform.python_version()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "kernel": platform.release(),
        "versions": versions,
        "load_average_at_start": os.getloadavg(),
    }


def engine_criterion(cases_file: Path, quick: bool) -> dict[str, float]:
    """The engine's criterion bench on the same cases: nanoseconds per operation (median)."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "services/engine-rs/target"))
    argv = [
        "cargo",
        "bench",
        "--locked",
        "--manifest-path",
        str(ROOT / "services/engine-rs/Cargo.toml"),
        "--bench",
        "pool_cases",
        "--",
    ]
    if quick:
        argv += ["--warm-up-time", "0.5", "--measurement-time", "1"]
    env = {**os.environ, "TITAN_BENCH_CASES": str(cases_file.resolve())}
    subprocess.run(argv, check=True, env=env, capture_output=True, text=True)
    out = {}
    for estimates in (target / "criterion").glob("pool_cases/*/new/estimates.json"):
        out[estimates.parent.parent.name] = json.loads(estimates.read_text())["median"][
            "point_estimate"
        ]
    return out


def measure_engine(results: dict[str, Any], quick: bool) -> None:
    """The engine's sections: pool math side by side with its baselines, and over HTTP."""
    print("pool math: Python reference, Uniswap SDKs, contracts ...", flush=True)
    results["pool_math"] = pool_math.run(RESULTS)
    cases_file = ROOT / results["pool_math"]["cases_file"]
    binary = Path(
        os.environ.get("ENGINE_BIN", ROOT / "services/engine-rs/target/release/titan_server")
    )
    print("pool math: engine (criterion) ...", flush=True)
    results["engine_criterion_ns"] = engine_criterion(cases_file, quick)
    print("pool math: Python reference and Uniswap SDKs again ...", flush=True)
    pool_math.time_baselines_again(results["pool_math"], cases_file)
    print("engine over HTTP (wrk) ...", flush=True)
    results["engine_http"] = engine_http.run(binary, cases_file, RESULTS, seconds=2 if quick else 5)


def service_bench(name: str, argv: list[str]) -> dict[str, Any]:
    """Run one service's benchmark; its JSON file, its last JSON line, or its printed summary."""
    out = RESULTS / f"{name}.json"
    out.unlink(missing_ok=True)
    argv = [arg.replace("{out}", str(out)) for arg in argv]
    timeout = TIMEOUT_S.get(name, DEFAULT_TIMEOUT_S)
    try:
        proc = subprocess.Popen(
            [sys.executable, *argv], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
    except OSError as exc:
        return {"error": f"{name}: {exc}"}
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # SIGTERM, not SIGKILL: the scripts that start a devnet and services (each in a
        # session of its own, out of reach of a kill of this child alone) stop them on it
        # (titan_devnet.devnet.exit_on_sigterm).
        proc.terminate()
        try:
            proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        return {"error": f"{name}: stopped after {timeout:.0f} s"}
    if proc.returncode != 0:
        return {"error": f"{name} exited {proc.returncode}: {stderr.strip()[-500:]}"}
    if out.is_file():
        result: dict[str, Any] = json.loads(out.read_text())
        return result
    lines = stdout.strip().splitlines()
    try:
        parsed: dict[str, Any] = json.loads(lines[-1])
        return parsed
    except (ValueError, IndexError):
        return {"summary": "\n".join(lines[-40:])}


def bench_argv(name: str, quick: bool) -> list[str]:
    argv, quick_argv = SERVICE_BENCHES[name]
    return argv + (quick_argv or []) if quick else argv


def rerun(names: list[str]) -> int:
    """Measure `names` again and fold them into bench/results/latest.json and BENCHMARKS.md;
    the rest of that run stands (its date and machine stay; the re-run sections say theirs)."""
    latest = RESULTS / "latest.json"
    if not latest.is_file():
        print("error: --only needs an earlier run's bench/results/latest.json", file=sys.stderr)
        return 2
    results: dict[str, Any] = json.loads(latest.read_text())
    quick = results.get("command") == "make bench-quick"
    for name in names:
        rerun = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average_at_start": os.getloadavg(),
        }
        if name == ENGINE:
            measure_engine(results, quick)
            results["pool_math"]["rerun"] = rerun
            continue
        print(f"{name} ...", flush=True)
        results[name] = service_bench(name, bench_argv(name, quick))
        results[name]["rerun"] = rerun
    results["figures"] = report.flat_figures(results)
    latest.write_text(json.dumps(results, indent=1))
    report.write(results, ROOT / "BENCHMARKS.md")
    print(f"re-ran {', '.join(names)}: wrote bench/results/latest.json and BENCHMARKS.md")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=sorted([ENGINE, *SERVICE_BENCHES]),
        help="re-run these sections into the last full run's results (engine: pool math and HTTP)",
    )
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.only:
        return rerun(args.only)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "make bench-quick" if args.quick else "make bench",
        "machine": machine(),
    }
    measure_engine(results, args.quick)
    for name, (_, quick_argv) in SERVICE_BENCHES.items():
        if args.quick and quick_argv is None:
            continue
        print(f"{name} ...", flush=True)
        results[name] = service_bench(name, bench_argv(name, args.quick))
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["seconds"] = time.perf_counter() - started
    results["figures"] = report.flat_figures(results)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=1))
    report.write(results, ROOT / "BENCHMARKS.md")
    print(f"wrote bench/results/latest.json and BENCHMARKS.md in {results['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
