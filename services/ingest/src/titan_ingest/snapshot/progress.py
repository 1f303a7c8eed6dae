"""A progress bar for large snapshots (rich), counting JSON-RPC calls answered."""

from __future__ import annotations

from types import TracebackType

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)


class SnapshotProgress:
    """JSON-RPC calls answered out of calls sent; the total grows round by round."""

    def __init__(self, pools: int) -> None:
        self._progress = Progress(
            TextColumn(f"snapshot of {pools} pools"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=False,
        )
        self._task = self._progress.add_task("calls", total=0)
        self._done = 0
        self._total = 0

    def __enter__(self) -> SnapshotProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def expect(self, calls: int) -> None:
        self._total += calls
        self._progress.update(self._task, total=self._total)

    def advance(self, calls: int) -> None:
        self._done += calls
        self._progress.update(self._task, completed=self._done)
