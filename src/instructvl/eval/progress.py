"""Progress bars for the infer phase: one rich bar per task, with counts, rate and ETA."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class _Bars:
    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress

    def add(self, name: str, total: int, completed: int) -> Callable[[int], None]:
        """A new bar; returns the function that advances it by n samples."""
        if self.progress is None:
            return lambda n: None
        task = self.progress.add_task(name, total=total, completed=completed)
        return lambda n: self.progress.advance(task, n)


@contextlib.contextmanager
def task_progress(enabled: bool = True) -> Iterator[_Bars]:
    """Per-task bars on stderr (no bars when `enabled` is False)."""
    if not enabled:
        yield _Bars(None)
        return
    columns = (
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        yield _Bars(progress)
