"""The ingest's progress bar (rich, on stderr), or nothing when it is off."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from coopgraph.graph.i18n import Lang

__all__ = ["Bar", "progress_bar"]



class Bar:
    """A thin wrapper over rich's Progress that does nothing when disabled."""

    def __init__(self, progress: Any | None) -> None:
        self._progress = progress
        self._task: Any = None

    def start(self, name: str) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task(name, total=None)

    def advance(self, rows: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, rows)

    def done(self) -> None:
        if self._progress is not None and self._task is not None:
            task = next(t for t in self._progress.tasks if t.id == self._task)
            self._progress.update(self._task, total=task.completed)


@contextmanager
def progress_bar(enabled: bool, lang: Lang = "en") -> Iterator[Bar]:
    if not enabled:
        yield Bar(None)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TextColumn("строк" if lang == "ru" else "rows"),
                  TimeElapsedColumn(),
                  console=Console(stderr=True), transient=False) as progress:
        yield Bar(progress)


# --- the load ----------------------------------------------------------------------
