"""The progress bar of a send in a terminal: recipients done, rate and ETA (rich)."""

from __future__ import annotations

import threading

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- berichten/s" if speed is None else f"{speed:.0f} berichten/s",
                    style="progress.data.speed")


class ProgressBar:
    """A ``sending.progress.Progress`` as a rich bar (disabled when output is not a terminal)."""

    def __init__(self, description: str, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TaskProgressColumn(), _RateColumn(), TimeElapsedColumn(), TextColumn("nog"),
            TimeRemainingColumn(), console=self.console,
            disable=not self.console.is_terminal, transient=False)
        self._description = description
        self._task: int | None = None
        self._lock = threading.Lock()

    def start(self, *, total: int, done: int) -> None:
        self._task = self._progress.add_task(self._description, total=total, completed=done)
        self._progress.start()

    def advance(self, amount: int, *, sent: int = 0) -> None:
        if self._task is not None:
            with self._lock:
                self._progress.advance(self._task, amount)

    def update(self, done: int) -> None:
        """Set how many are done (the sending processes report through the ledger)."""
        if self._task is not None:
            with self._lock:
                self._progress.update(self._task, completed=done)

    def stop(self) -> None:
        self._progress.stop()
