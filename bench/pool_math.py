"""Pool math, per operation, side by side on the same pool states read from the devnet:
Titan's engine (criterion), the plain-Python reference, the official Uniswap SDKs under node,
and the real contracts through `eth_call` on anvil.

The `bench` scenario's V3 pool holds a ladder of 60 nested ranges, so one pool gives swaps that
cross 0, 1, 10 and 50 initialized ticks. Every implementation must also return the same amount.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from web3 import Web3

from titan_common import pool_math
from titan_common.pool_math.v3.swap import PoolState
from titan_common.pool_math.v3.tick_math import get_sqrt_ratio_at_tick
from titan_devnet import devnet
from titan_devnet.anvil import free_port
from titan_devnet.pool_state import read_pool_state

BENCH_DIR = Path(__file__).resolve().parent
TICKS_CROSSED = (0, 1, 10, 50)


def _v3_state(state: dict[str, Any]) -> PoolState:
    return PoolState(
        sqrt_price_x96=int(state["sqrt_price_x96"]),
        tick=state["tick"],
        liquidity=int(state["liquidity"]),
        fee=state["fee"],
        tick_spacing=state["tick_spacing"],
        ticks=tuple((t["index"], int(t["liquidity_net"])) for t in state["ticks"]),
    )


def _amount_crossing(state: dict[str, Any], crossed: int) -> int:
    """An exact input (token0 in) whose swap crosses exactly `crossed` initialized ticks."""
    below = sorted(
        (t["index"] for t in state["ticks"] if t["index"] <= state["tick"]), reverse=True
    )
    upper = state["tick"] if crossed == 0 else below[crossed - 1]
    target = (upper + below[crossed]) // 2
    limited = pool_math.swap(_v3_state(state), True, 2**200, get_sqrt_ratio_at_tick(target))
    return limited.amount0


def make_cases(rpc_url: str, manifest: dict[str, Any], block: int) -> list[dict[str, Any]]:
    weth, usdc = (
        next(t["address"] for t in manifest["tokens"] if t["symbol"] == s) for s in ("WETH", "USDC")
    )
    pair = {weth, usdc}
    v2 = next(
        p
        for p in manifest["pools"]
        if p["dex"] == "uniswap_v2" and {p["token0"], p["token1"]} == pair
    )
    v3 = next(
        p for p in manifest["pools"] if p["kind"] == "v3" and {p["token0"], p["token1"]} == pair
    )
    v2_state = read_pool_state(rpc_url, v2, block)
    v3_state = read_pool_state(rpc_url, v3, block)
    cases = [
        {
            "name": "v2_get_amount_out",
            "state": v2_state,
            "zero_for_one": True,
            "amount_in": str(10**15),
        }
    ]
    for crossed in TICKS_CROSSED:
        cases.append(
            {
                "name": f"v3_swap_{crossed}_ticks",
                "state": v3_state,
                "zero_for_one": True,
                "amount_in": str(_amount_crossing(v3_state, crossed)),
            }
        )
    return cases


def python_amount_out(case: dict[str, Any]) -> int:
    state = case["state"]
    amount = int(case["amount_in"])
    if state["kind"] == "v2":
        return pool_math.get_amount_out(amount, int(state["reserve0"]), int(state["reserve1"]))
    return -pool_math.swap(_v3_state(state), True, amount).amount1


def time_python(case: dict[str, Any], min_seconds: float = 0.3) -> tuple[float, int]:
    state, amount = case["state"], int(case["amount_in"])
    if state["kind"] == "v2":
        r0, r1 = int(state["reserve0"]), int(state["reserve1"])

        def op() -> int:
            return pool_math.get_amount_out(amount, r0, r1)
    else:
        pool = _v3_state(state)

        def op() -> int:
            return -pool_math.swap(pool, True, amount).amount1

    return _loop(op, min_seconds)


def _loop(op: Any, min_seconds: float) -> tuple[float, int]:
    out = op()
    runs, started = 0, time.perf_counter()
    while time.perf_counter() - started < min_seconds:
        for _ in range(10):
            out = op()
        runs += 10
    return (time.perf_counter() - started) * 1e9 / runs, out


def time_contract(
    w3: Web3, manifest: dict[str, Any], case: dict[str, Any], block: int
) -> tuple[float, int]:
    """One `eth_call` of the router (V2) or QuoterV2 (V3) against anvil, per operation."""
    state, amount = case["state"], int(case["amount_in"])
    dex = next(d for d in manifest["dexes"] if d["name"] == state["dex"])
    abi_name = "UniswapV2Router02" if state["kind"] == "v2" else "QuoterV2"
    from titan_devnet.artifacts import load

    if state["kind"] == "v2":
        router = w3.eth.contract(address=dex["router"], abi=load(abi_name).abi)
        call = router.functions.getAmountsOut(amount, [state["token0"], state["token1"]])

        def op() -> int:
            return int(call.call(block_identifier=block)[1])
    else:
        quoter = w3.eth.contract(address=dex["quoter"], abi=load(abi_name).abi)
        call = quoter.functions.quoteExactInputSingle(
            (state["token0"], state["token1"], amount, state["fee"], 0)
        )

        def op() -> int:
            return int(call.call(block_identifier=block)[0])

    return _loop(op, 1.0)


def time_node(cases_file: Path) -> dict[str, Any]:
    node_dir = BENCH_DIR / "node"
    if not (node_dir / "node_modules").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=node_dir, check=True
        )
    out = subprocess.run(
        ["node", "sdk_bench.cjs", str(cases_file.resolve())],
        cwd=node_dir,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def time_baselines_again(pool_math_results: dict[str, Any], cases_file: Path) -> None:
    """Time plain Python and the SDK once more (after the engine's run) and keep the mean of
    the two timings per case, both beside it: the machine's speed drifts over minutes, and a
    ratio taken against one timing made minutes before the engine's moved by a third between
    runs."""
    cases = json.loads(cases_file.read_text())["cases"]
    node = time_node(cases_file)
    for case in cases:
        row = pool_math_results["cases"][case["name"]]
        again = {"python_ns": time_python(case)[0], "node_sdk_ns": node[case["name"]]["ns_per_op"]}
        for key, later in again.items():
            row[f"{key}_runs"] = [row[key], later]
            row[key] = (row[key] + later) / 2


def run(results_dir: Path) -> dict[str, Any]:
    """Start a devnet with the bench scenario, build the cases, time every implementation."""
    # A mainnet-sized block gas limit: a swap crossing 50 ticks costs more than the flow's 2M.
    running = devnet.start(
        free_port(),
        "bench",
        seed=1,
        manifest_path=results_dir / "bench-manifest.json",
        gas_limit=30_000_000,
    )
    try:
        block = running.w3.eth.block_number
        cases = make_cases(running.anvil.rpc_url, running.manifest, block)
        cases_file = results_dir / "pool_math_cases.json"
        cases_file.write_text(json.dumps({"block": block, "cases": cases}))
        node = time_node(cases_file)
        table: dict[str, Any] = {}
        for case in cases:
            py_ns, py_out = time_python(case)
            chain_ns, chain_out = time_contract(running.w3, running.manifest, case, block)
            table[case["name"]] = {
                "python_ns": py_ns,
                "node_sdk_ns": node[case["name"]]["ns_per_op"],
                "anvil_eth_call_ns": chain_ns,
                "amount_out": {
                    "python": str(py_out),
                    "node_sdk": node[case["name"]]["amount_out"],
                    "contract": str(chain_out),
                },
            }
        # relative to the repository: the results are committed, this machine's paths are not
        relative = cases_file.resolve().relative_to(BENCH_DIR.parent)
        return {"cases_file": relative.as_posix(), "block": block, "cases": table}
    finally:
        running.stop()
