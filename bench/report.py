"""Turn a benchmark run's results into BENCHMARKS.md's measured section and flat figures."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from goals import goals_table

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
    figures.update(_service_figures(results))
    return {k: v for k, v in figures.items() if v is not None}


def _dig(tree: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def _first(tree: Any, prefix: str) -> Any:
    """The value of the first key starting with `prefix` (the ML bench names rows in prose)."""
    if not isinstance(tree, dict):
        return None
    return next((v for k, v in tree.items() if k.startswith(prefix)), None)


def _service_figures(results: dict[str, Any]) -> dict[str, float | None]:
    """Flat figures from the ingest, scanner, ML and end-to-end benchmarks (absent if not run)."""
    ingest, scanner, ml = (results.get(k, {}) for k in ("ingest", "scanner", "ml"))
    snapshot = _dig(ingest, "snapshot") or {}
    discovery, helper = snapshot.get("discovery_seconds"), snapshot.get("helper_seconds")
    xlarge = results.get("ingest_xlarge", {})
    x_snapshot = _dig(xlarge, "snapshot") or {}
    x_discovery, x_helper = x_snapshot.get("discovery_seconds"), x_snapshot.get("helper_seconds")
    at_10k = x_snapshot.get("pools", 0) >= 10_000
    us = 1e-3  # the ML bench reports microseconds
    figures: dict[str, float | None] = {
        "ingest.snapshot_pools": snapshot.get("pools"),
        "ingest.snapshot_1000_pools_s": discovery + helper
        if discovery is not None and helper is not None and snapshot.get("pools", 0) >= 1000
        else None,
        "ingest.snapshot_10000_pools_s": x_discovery + x_helper
        if x_discovery is not None and x_helper is not None and at_10k
        else None,
        "ingest.rss_10000_pools_mb": _dig(xlarge, "latency", "rss_mb_end") if at_10k else None,
        "ingest.log_to_client_p50_ms": _dig(ingest, "latency", "p50_ms"),
        "ingest.log_to_client_p99_ms": _dig(ingest, "latency", "p99_ms"),
        "ingest.rss_mb": _dig(ingest, "latency", "rss_mb_end"),
        "scanner.index_10000_pools_s": _dig(scanner, "index_build", "build_s")
        if _dig(scanner, "index_build", "pools") == 10_000
        else None,
        "scanner.screen_10000_cycles_ms": _dig(scanner, "screening", "screen_all_ms_p50"),
        "ml.training_s": _dig(ml, "training_s"),
    }
    latency = _dig(ml, "latency") or {}
    for key, prefix in (
        ("forecast_in_process", "forecast_in_process (h=3)"),
        ("forecast_http", "forecast_http (h=3"),
        ("rl_action_in_process", "rl_action_in_process"),
        ("rl_action_http", "rl_action_http"),
    ):
        row = _first(latency, prefix) or {}
        for q in ("p50", "p99"):
            value = row.get(f"{q}_us")
            figures[f"ml.{key}_{q}_ms"] = value * us if value is not None else None
    for h, row in (_dig(ml, "evaluation", "horizons") or {}).items():
        figures[f"ml.mae_reduction_vs_last_value_h{h}_pct"] = row.get(
            "model_vs_last_value_mae_reduction_pct"
        )
    cases = _dig(results, "e2e", "scenarios") or []
    for case in cases:
        latency = case["latency"]
        name = f"e2e.pools_{case['pools']}"
        if case.get("block_time_s"):
            name += f"_blocks_{case['block_time_s']:g}s"
        figures[f"{name}.p50_ms"] = latency["p50_ms"]
        figures[f"{name}.p99_ms"] = latency["p99_ms"]
        figures[f"{name}.opportunities"] = latency["count"]
        kept = [r["scanner_updates_per_s"] for r in case["ramp"] if r["kept_up"]]
        figures[f"{name}.max_updates_per_s_kept_up"] = max(kept, default=None)
    # The goals are stated at 1,000 pools with the flow on: the largest scenario, mined as
    # `make up` mines (1 s blocks) when it ran so; automine (a block per step) is the stress row.
    largest = max(cases, key=lambda c: (c["pools"], bool(c.get("block_time_s"))), default=None)
    if largest is not None and largest["pools"] >= 1000:
        figures["e2e.pools"] = largest["pools"]
        figures["e2e.p50_ms"] = largest["latency"]["p50_ms"]
        figures["e2e.p99_ms"] = largest["latency"]["p99_ms"]
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
    ten = results["pool_math"]["cases"].get("v3_swap_10_ticks", {})
    if "node_sdk_ns_runs" in ten:
        before, after = ten["node_sdk_ns_runs"]
        lines += [
            "",
            "Plain Python and the SDK are timed before and after the engine's run; the table has "
            f"the mean of the two (the SDK at 10 ticks: {_fmt_ns(before)}, then {_fmt_ns(after)}).",
        ]
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


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def _rerun_line(section: dict[str, Any], only: str, what: str) -> list[str]:
    """When a section was measured again after the run (`--only`), say when and how busy."""
    rerun = section.get("rerun")
    if not rerun:
        return []
    return [
        f"Re-run alone (`--only {only}`): {what}, on {rerun['date']}, load average at start "
        f"{rerun['load_average_at_start'][0]:.2f}.",
        "",
    ]


# Transactions left in the node's pool at the end of a ramp step past which the node, not the
# pipeline, is what could not keep up (the flow sends a few per step).
NODE_BEHIND_BACKLOG = 1000


def _e2e_lines(e2e: dict[str, Any]) -> list[str]:
    if "error" in e2e:
        return [f"Not measured: {e2e['error']}"]
    lines = [
        "Every service real (devnet flow, engine, ingest, ML, scanner as processes); latency "
        "from the block's arrival at ingest to the opportunity received by a client of "
        "`WS /ws/opportunities` (p50 at publication, each opportunity's own `latency_ms`, "
        "beside it).",
        "",
        *_rerun_line(e2e, "e2e", "this section"),
        "Mining: automine is a block per flow step, as fast as the flow sends them (~8 blocks/s, "
        "a stress: at 1,104 pools anvil spends 65-80 ms of CPU on every block); 1 s blocks carry "
        "one step's swaps each, as `make up` runs the devnet. The goal rows read the largest "
        "scenario with 1 s blocks, over the opportunities of all its runs (each on a fresh "
        "devnet with the same seeded flow; one run's p50 moves by a millisecond with the "
        "machine's state).",
        "",
        "| pools | mining | opportunities | p50 | p90 | p99 | max | p50 at publication | blocks | verified / mismatch |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in e2e["scenarios"]:
        lat, ver = case["latency"], case["latency"]["verification"]
        block_time = case.get("block_time_s")
        mining = f"{block_time:g} s blocks" if block_time else "automine"
        runs = lat.get("runs") or []
        each = f" (runs: {' / '.join(_ms(r['p50_ms']) for r in runs)})" if len(runs) > 1 else ""
        lines.append(
            f"| {case['pools']} | {mining} | {lat['count']} | {_ms(lat['p50_ms'])}{each} "
            f"| {_ms(lat['p90_ms'])} "
            f"| {_ms(lat['p99_ms'])} | {_ms(lat['max_ms'])} "
            f"| {_ms(lat.get('published', {}).get('p50_ms'))} | {lat['blocks']} "
            f"| {ver.get('verified', 0)} / {ver.get('mismatch', 0)} |"
        )
    ramps = [(c["pools"], r) for c in e2e["scenarios"] for r in c["ramp"]]
    if ramps:
        lines += [
            "",
            "Offered load (flow pause between steps) and whether the pipeline kept up (ingest at "
            "the head at the end, second-half p50 ≤ 2 × first-half p50 + 5 ms):",
            "",
            "| pools | flow pause | blocks/s | ingest events/s | scanner updates/s | p50 1st / 2nd half | txpool backlog | kept up |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for pools, r in ramps:
            # the node drowned in the flow's transactions (no block, or thousands left waiting
            # in its pool): the pipeline had next to nothing to keep up with
            kept = "yes" if r["kept_up"] else "**no**"
            if not r["blocks_per_s"]:
                kept = "— (the node mined no block)"
            elif r.get("txpool_pending_at_end", 0) >= NODE_BEHIND_BACKLOG:
                kept = "— (the node fell behind the flow)"
            lines.append(
                f"| {pools} | {r['pause_s']} s | {r['blocks_per_s']} | {r['ingest_events_per_s']} "
                f"| {r['scanner_updates_per_s']} | {_ms(r['latency_first_half']['p50_ms'])} / "
                f"{_ms(r['latency_second_half']['p50_ms'])} | {r.get('txpool_pending_at_end', '—')} "
                f"| {kept} |"
            )
    if e2e.get("plot"):
        lines += ["", f"![end-to-end latency distribution]({e2e['plot']})"]
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
        *_rerun_line(results["pool_math"], "engine", "this section and the engine over HTTP"),
        *_pool_math_table(results),
        "",
    ]
    if "engine_http" in results:
        lines += [
            "### Engine over HTTP (wrk on the same machine, one thread)",
            "",
            *_http_table(results["engine_http"]),
            "",
        ]
    if "e2e" in results:
        lines += ["### End to end: block arrival at ingest → opportunity at a client of WS /ws/opportunities", "",
                  *_e2e_lines(results["e2e"]), ""]  # fmt: skip
    for name in ("ingest", "ingest_xlarge", "scanner", "ml"):
        if name in results:
            body = results[name].get("summary") or json.dumps(results[name], indent=1)
            lines += [f"### {name} (its own benchmark script)", "",
                      *_rerun_line(results[name], name, "this section"), "```", body, "```", ""]  # fmt: skip
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
