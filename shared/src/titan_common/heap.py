"""Keeping the garbage collector's full collections short in a long-running service.

A full collection walks every object the collector tracks, and the event loop stands still
while it does. A service's long-lived heap (its modules, its app, the state it built at
startup: ~170k objects in the scanner) took 100-250 ms a walk here, a few times a minute; a
block's opportunities waited behind it. `gc.freeze()` moves what exists at that moment into a
permanent generation that collections skip. What is made afterwards is collected as before.

Freeze only at a point where what is alive will stay alive: cyclic garbage made of frozen
objects is never reclaimed. So only a server process freezes (its `__main__` wraps the app in
`freeze_after_startup`): after its startup, and again where it has built state for good (the
scanner once a snapshot's pools are indexed, ingest once its first snapshot is in). Apps made
and dropped inside a test process never freeze.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

_server = False  # set by freeze_after_startup: this process is a service's server


def freeze_long_lived() -> None:
    """In a server process, collect what is garbage now, then take everything still alive out
    of later collections; elsewhere nothing."""
    if _server:
        gc.collect()
        gc.freeze()


def freeze_after_startup(app: FastAPI) -> FastAPI:
    """`app`, whose lifespan freezes the heap once its startup is done; from then on this
    process freezes where `freeze_long_lived` is called."""
    global _server
    _server = True
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        async with inner(app) as state:
            freeze_long_lived()
            yield state

    app.router.lifespan_context = lifespan
    return app
