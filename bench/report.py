"""Turn a benchmark run's results into BENCHMARKS.md's measured section and flat figures."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

BEGIN = "<!-- measured: written by `make bench`, do not edit by hand -->"
END = "<!-- end measured -->"


def _fmt_ns(ns: float | None) -> str:
    if ns is None:
        return "—"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


# (goal, figure key, "<=" or ">=", threshold): the issues' targets and the seed's claims.
GOALS = [
    ("engine: V2 quote ≤ 50 ns", "engine.v2_get_amount_out_ns", "<=", 50),
    ("engine: V3 exact-in crossing 10 ticks ≤ 2 µs", "engine.v3_swap_10_ticks_ns", "<=", 2000),
    (
        "engine: ≥ 100× faster than @uniswap/v3-sdk (10 ticks)",
        "engine.v3_swap_10_ticks.ratio_vs_sdk",
        ">=",
        100,
    ),
    (
        "engine: ≥ 30× faster than plain Python (10 ticks)",
        "engine.v3_swap_10_ticks.ratio_vs_python",
        ">=",
        30,
    ),
    (
        "engine: POST /api/pool ≥ 50,000 req/s at 64 connections",
        "engine_http.pool_c64.rps",
        ">=",
        50_000,
    ),
    ("engine: POST /api/pool p99 ≤ 2 ms at 64 connections", "engine_http.pool_c64.p99_ms", "<=", 2),
    (
        "engine: 100 mixed cycles sized ≤ 5 ms (HTTP p50, 1 connection)",
        "engine_http.evaluate_100_c1.p50_ms",
        "<=",
        5,
    ),
    ("engine: RSS idle ≤ 20 MB", "engine_http.rss_idle_mb", "<=", 20),
    ("engine: start to ready ≤ 100 ms", "engine_http.start_to_ready_ms", "<=", 100),
    ("seed: ~10,000 req/s", "engine_http.pool_c64.rps", ">=", 10_000),
    (
        "seed: < 10 ms per cached query (p99, 64 connections)",
        "engine_http.pool_c64.p99_ms",
        "<=",
        10,
    ),
    ("seed: ~50 MB memory (engine under load)", "engine_http.rss_under_load_mb", "<=", 50),
    ("seed: < 1 s start", "engine_http.start_to_ready_ms", "<=", 1000),
]


def goals_table(figures: dict[str, float]) -> list[str]:
    lines = ["| goal | measured | met |", "|---|---|---|"]
    for goal, key, op, threshold in GOALS:
        value = figures.get(key)
        if value is None:
            lines.append(f"| {goal} | not measured | — |")
            continue
        met = value <= threshold if op == "<=" else value >= threshold
        lines.append(f"| {goal} | {value:,.2f} (`{key}`) | {'met' if met else '**not met**'} |")
    return lines


def flat_figures(results: dict[str, Any]) -> dict[str, float]:
    figures: dict[str, float] = {}
    engine = results.get("engine_criterion_ns", {})
    for case, row in results["pool_math"]["cases"].items():
        ours = engine.get(case)
        if ours:
            figures[f"engine.{case}_ns"] = ours
            figures[f"engine.{case}.ratio_vs_python"] = row["python_ns"] / ours
            figures[f"engine.{case}.ratio_vs_sdk"] = row["node_sdk_ns"] / ours
            figures[f"engine.{case}.ratio_vs_anvil"] = row["anvil_eth_call_ns"] / ours
        figures[f"python.{case}_ns"] = row["python_ns"]
        figures[f"node_sdk.{case}_ns"] = row["node_sdk_ns"]
    for name, value in engine.items():
        figures.setdefault(f"engine.{name}_ns", value)
    http = results.get("engine_http", {})
    for run, row in http.get("runs", {}).items():
        figures[f"engine_http.{run}.rps"] = row["rps"]
        figures[f"engine_http.{run}.p50_ms"] = row["p50_us"] / 1000
        figures[f"engine_http.{run}.p99_ms"] = row["p99_us"] / 1000
    if http:
        figures["engine_http.rss_idle_mb"] = http["rss_idle_kib"] / 1024
        figures["engine_http.rss_under_load_mb"] = http["rss_under_load_kib"] / 1024
        figures["engine_http.start_to_ready_ms"] = statistics.median(http["start_to_ready_ms"])
    return figures


def _pool_math_table(results: dict[str, Any]) -> list[str]:
    engine = results.get("engine_criterion_ns", {})
    lines = [
        "| case | Titan engine | plain Python | ratio | Uniswap SDK (node) | ratio | contract via anvil eth_call | ratio | same amount out |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for case, row in results["pool_math"]["cases"].items():
        ours = engine.get(case)
        same = len(set(row["amount_out"].values())) == 1

        def ratio(theirs: float, ours: float | None = ours) -> str:
            return f"{theirs / ours:,.0f}×" if ours else "—"

        lines.append(
            f"| `{case}` | {_fmt_ns(ours)} | {_fmt_ns(row['python_ns'])} | {ratio(row['python_ns'])} "
            f"| {_fmt_ns(row['node_sdk_ns'])} | {ratio(row['node_sdk_ns'])} "
            f"| {_fmt_ns(row['anvil_eth_call_ns'])} | {ratio(row['anvil_eth_call_ns'])} | {'yes' if same else '**no**'} |"
        )
    others = {k: v for k, v in engine.items() if k not in results["pool_math"]["cases"]}
    if others:
        lines += ["", "| engine-only case | median |", "|---|---|"]
        lines += [f"| `{k}` | {_fmt_ns(v)} |" for k, v in sorted(others.items())]
    return lines


def _http_table(http: dict[str, Any]) -> list[str]:
    lines = [
        "| endpoint | connections | requests/s | p50 | p99 | p99.9 | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for run, row in http["runs"].items():
        name, conns = run.rsplit("_c", 1)
        lines.append(
            f"| {name} | {conns} | {row['rps']:,.0f} | {row['p50_us'] / 1000:.2f} ms | "
            f"{row['p99_us'] / 1000:.2f} ms | {row['p999_us'] / 1000:.2f} ms | {row['errors'] + row['non_2xx']} |"
        )
    ready = http["start_to_ready_ms"]
    lines += [
        "",
        f"RSS idle {http['rss_idle_kib'] / 1024:.1f} MB, under load {http['rss_under_load_kib'] / 1024:.1f} MB; "
        f"start to ready {min(ready):.1f} / {statistics.median(ready):.1f} / {max(ready):.1f} ms (min / median / max of {len(ready)}).",
    ]
    return lines


def measured_section(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        BEGIN,
        f"Run `{results['command']}` on {results['date']}: {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB; {m['versions']['rustc']}, Python {m['versions']['python']}, "
        f"node {m['versions']['node']}. Load average at start {m['load_average_at_start'][0]:.2f}, "
        f"at end {m['load_average_at_end'][0]:.2f} (a busy machine inflates every figure; the ratios "
        "compare runs made back to back in the same command). Raw figures: `bench/results/latest.json`.",
        "",
        "### Goals",
        "",
        *goals_table(results["figures"]),
        "",
        "### Pool math per operation, same devnet pool states (bench scenario)",
        "",
        *_pool_math_table(results),
        "",
    ]
    if "engine_http" in results:
        lines += [
            "### Engine over HTTP (wrk on the same machine)",
            "",
            *_http_table(results["engine_http"]),
            "",
        ]
    for name in ("ingest", "scanner", "ml"):
        if name in results:
            body = results[name].get("summary") or json.dumps(results[name], indent=1)
            lines += [f"### {name} (its own benchmark script)", "", "```", body, "```", ""]
    lines.append(END)
    return "\n".join(lines)


def write(results: dict[str, Any], path: Path) -> None:
    section = measured_section(results)
    text = path.read_text() if path.is_file() else "# Benchmarks\n\n" + BEGIN + "\n" + END + "\n"
    if BEGIN not in text:
        text += "\n" + BEGIN + "\n" + END + "\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1] if END in rest else ""
    path.write_text(head + section + tail)
