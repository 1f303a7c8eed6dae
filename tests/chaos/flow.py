"""The devnet's market flow in its own process (as the ingest benchmark runs it: it must not
share the test's GIL), paused and resumed by the test, and alive through the node's faults:
a step that fails (the node is down) is counted and tried again half a second later."""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

_spawn = multiprocessing.get_context("spawn")


def _run(rpc_url: str, manifest: dict[str, Any], seed: int, pause: float, flags: Any) -> None:
    from web3 import Web3

    from titan_devnet.flow import MarketFlow

    stop, paused, idle, steps, failures = flags
    flow = MarketFlow(
        Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 10})), manifest, seed
    )
    while not stop.is_set():
        if paused.is_set():
            idle.set()
            stop.wait(0.02)
            continue
        idle.clear()
        try:
            flow.step()
            steps.value += 1
        except Exception:  # the node is down or restarting: the flow waits for it
            failures.value += 1
            stop.wait(0.5)
            continue
        if pause > 0:
            stop.wait(pause)
    idle.set()


class FlowProcess:
    """`start()`, `pause()` (returns once no swap is being sent), `resume()`, `stop()`.
    `pause` 0 between steps is the flow's highest rate."""

    def __init__(self, rpc_url: str, manifest: dict[str, Any], seed: int, pause: float) -> None:
        self._stop = _spawn.Event()
        self._paused = _spawn.Event()
        self._idle = _spawn.Event()
        self._steps = _spawn.Value("q", 0)
        self._failures = _spawn.Value("q", 0)
        flags = (self._stop, self._paused, self._idle, self._steps, self._failures)
        self._process = _spawn.Process(
            target=_run, args=(rpc_url, manifest, seed, pause, flags), daemon=True
        )

    @property
    def steps(self) -> int:
        return int(self._steps.value)

    @property
    def failures(self) -> int:
        return int(self._failures.value)

    def start(self) -> FlowProcess:
        self._process.start()
        return self

    def pause(self, timeout: float = 60.0) -> None:
        self._paused.set()
        self._idle.clear()
        if not self._idle.wait(timeout):
            raise TimeoutError(f"the flow did not pause within {timeout} s")

    def resume(self) -> None:
        self._paused.clear()

    def stop(self) -> None:
        self._stop.set()
        self._process.join(30)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)


def wait_steps(flow: FlowProcess, more: int, timeout: float = 60.0) -> None:
    """Until the flow has sent `more` further steps."""
    target = flow.steps + more
    deadline = time.monotonic() + timeout
    while flow.steps < target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the flow made {flow.steps - target + more} of {more} steps")
        time.sleep(0.05)
