"""The goals `make bench` checks: the issues' targets and the seed's claims, and their table."""

from __future__ import annotations

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
    ("ingest: discovery + snapshot of 1,000 pools ≤ 3 s", "ingest.snapshot_1000_pools_s", "<=", 3),
    (
        "ingest: discovery + snapshot of 10,000 pools ≤ 20 s",
        "ingest.snapshot_10000_pools_s",
        "<=",
        20,
    ),
    ("ingest: memory ≤ 200 MB with 10,000 pools", "ingest.rss_10000_pools_mb", "<=", 200),
    ("ingest: log → WS /ws/pools p50 ≤ 2 ms", "ingest.log_to_client_p50_ms", "<=", 2),
    ("ingest: log → WS /ws/pools p99 ≤ 10 ms", "ingest.log_to_client_p99_ms", "<=", 10),
    ("scanner: 10,000 cycles re-screened ≤ 5 ms", "scanner.screen_10000_cycles_ms", "<=", 5),
    ("scanner: index for 10,000 pools ≤ 5 s", "scanner.index_10000_pools_s", "<=", 5),
    ("end to end: block → opportunity p50 ≤ 15 ms (1,000 pools)", "e2e.p50_ms", "<=", 15),
    ("end to end: block → opportunity p99 ≤ 50 ms (1,000 pools)", "e2e.p99_ms", "<=", 50),
    ("ml: forecast in process p99 ≤ 1 ms", "ml.forecast_in_process_p99_ms", "<=", 1),
    ("ml: forecast over HTTP p99 ≤ 5 ms", "ml.forecast_http_p99_ms", "<=", 5),
    ("ml: RL action over HTTP p99 ≤ 5 ms", "ml.rl_action_http_p99_ms", "<=", 5),
    ("ml: training on the shipped data ≤ 60 s", "ml.training_s", "<=", 60),
    *[
        (
            f"ml: MAE ≥ 15 % below last value at h={h}",
            f"ml.mae_reduction_vs_last_value_h{h}_pct",
            ">=",
            15,
        )
        for h in (3, 4, 5)
    ],
    ("seed: WebSocket latency < 100 ms (end to end p99)", "e2e.p99_ms", "<=", 100),
    ("seed: prediction < 1 ms (in process p99)", "ml.forecast_in_process_p99_ms", "<=", 1),
    ("seed: training 2–5 minutes (ours: ≤ 300 s)", "ml.training_s", "<=", 300),
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


# HTTP goals that the machine bounds more than the handler: beside them the same run's figure
# for `GET /health`, which has next to no handler, so that a reader tells the two apart.
MACHINE_FLOOR = {
    "engine_http.pool_c64.rps": ("engine_http.health_c64.rps", "`GET /health`: {:,.0f} req/s"),
    "engine_http.pool_c64.p99_ms": ("engine_http.health_c64.p99_ms", "`GET /health`: {:.2f} ms"),
}


def goals_table(figures: dict[str, float]) -> list[str]:
    lines = ["| goal | measured | met | same run, no handler |", "|---|---|---|---|"]
    for goal, key, op, threshold in GOALS:
        value = figures.get(key)
        floor_key, floor_text = MACHINE_FLOOR.get(key, ("", ""))
        floor = figures.get(floor_key)
        beside = floor_text.format(floor) if floor is not None else ""
        if value is None:
            lines.append(f"| {goal} | not measured | — | {beside} |")
            continue
        met = value <= threshold if op == "<=" else value >= threshold
        lines.append(
            f"| {goal} | {value:,.2f} (`{key}`) | {'met' if met else '**not met**'} | {beside} |"
        )
    return lines
