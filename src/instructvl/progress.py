"""A rich progress bar for long offline work (steps, a free info field, elapsed, ETA)."""

from __future__ import annotations

from typing import Any


class StepBar:
    """A context manager showing rich progress bars on stderr, or nothing when `show` is
    false. `task(description, total)` adds a bar (total None: indeterminate) and returns
    its handle; `update(task, advance=..., info=...)` moves it (any `rich` update field).

    On a console that is not a terminal (a log file), where rich draws nothing until the
    end, each bar also prints a plain line at every tenth of its total."""

    def __init__(self, show: bool, console=None) -> None:
        self.progress = None
        self.logged: dict[Any, int] = {}  # task -> tenths printed, when not a terminal
        if show:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console or Console(stderr=True),
            )

    def __enter__(self):
        if self.progress:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        if self.progress:
            self.progress.__exit__(*exc)

    def task(self, description: str, total: int | None) -> Any:
        """A new bar (None when nothing is shown)."""
        return self.progress.add_task(description, total=total, info="") if self.progress else None

    def update(self, task, **kw) -> None:
        """Updates a bar made by `task` (does nothing when nothing is shown)."""
        if self.progress and task is not None:
            self.progress.update(task, **kw)
            if not self.progress.console.is_terminal:
                self._log(task)

    def _log(self, task) -> None:
        bar = self.progress.tasks[task]
        if not bar.total:
            return
        tenths = int(10 * bar.completed // bar.total)
        if tenths > self.logged.get(task, 0):
            self.logged[task] = tenths
            info = f" {bar.fields['info']}" if bar.fields.get("info") else ""
            line = f"{bar.description}: {bar.completed:.0f}/{bar.total:.0f}{info} ({bar.elapsed or 0:.0f} s)"
            self.progress.console.print(line, highlight=False, soft_wrap=True)
