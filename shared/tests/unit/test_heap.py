"""Freezing the heap happens in a server process only, after its startup: run in a child
process, so this test process is never frozen."""

from __future__ import annotations

import subprocess
import sys
import textwrap

_CHILD = textwrap.dedent(
    """
    import asyncio, gc
    from fastapi import FastAPI
    from titan_common import heap

    heap.freeze_long_lived()
    print("before", gc.get_freeze_count())
    app = heap.freeze_after_startup(FastAPI())

    async def run():
        async with app.router.lifespan_context(app):
            print("running", gc.get_freeze_count())
            junk = [[] for _ in range(1000)]
            for item in junk:
                item.append(item)
            del junk
            heap.freeze_long_lived()  # collects the cycles first: they are not kept
            print("again", gc.get_freeze_count())

    asyncio.run(run())
    """
)


def test_a_server_freezes_its_heap_after_startup_and_not_its_garbage() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True
    ).stdout
    counts = dict(line.split() for line in out.splitlines())
    print(counts)
    assert int(counts["before"]) == 0  # not a server yet: nothing frozen
    assert int(counts["running"]) > 10_000  # fastapi, pydantic, starlette and the app
    # the thousand self-referencing lists were garbage when frozen again: collected, not kept
    assert 0 <= int(counts["again"]) - int(counts["running"]) < 1_000
