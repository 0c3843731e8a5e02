"""Rich display shared by the long operations (base image, model image builds)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


class StepDisplay:
    """A one-line status (spinner, text, elapsed time) with log lines printed above it.

    Quiet when `enabled` is False, so library callers and tests can turn it off.
    """

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._task = progress.add_task("", total=None) if progress else None

    def status(self, text: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=text)

    def line(self, text: str, style: str = "dim") -> None:
        # markup/highlight off: build logs are full of brackets that are not Rich markup.
        if self._progress is not None:
            self._progress.console.print(
                text, style=style, markup=False, highlight=False, soft_wrap=True
            )

    def note(self, text: str) -> None:
        """A line with Rich markup (summaries)."""
        if self._progress is not None:
            self._progress.console.print(text, highlight=False)


@contextmanager
def step_display(enabled: bool, console: Console | None = None) -> Iterator[StepDisplay]:
    if not enabled:
        yield StepDisplay(None)
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=True,
    )
    with progress:
        yield StepDisplay(progress)
