"""Rows read, rows predicted and elapsed time while a job runs (Rich), and its final summary.

Spark accumulators reach the driver as tasks finish, so the counts move per finished task;
a thread polls them, bounded by the job's own end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

POLL_SECONDS = 0.5
PROGRESS_MARKER = "PYML_OFFLINE_PROGRESS "
ProgressStyle = Literal["rich", "lines", "off"]


@dataclass(frozen=True)
class Counters:
    rows_read: Any  # Spark accumulators
    rows_predicted: Any


@contextmanager
def job_progress(counters: Counters, title: str, style: ProgressStyle) -> Iterator[None]:
    """Counts shown while the body runs: a Rich line, or marked stdout lines (in a container,
    read by the runner), or nothing."""
    if style == "off":
        yield
    elif style == "lines":
        with _polling(_ChangedLines(), counters):
            yield
    else:
        with _rich_progress(counters, title):
            yield


class _ChangedLines:
    """Prints a progress line when the counts change, else every few seconds (logs stay short)."""

    def __init__(self, quiet_seconds: float = 10.0) -> None:
        self.quiet_seconds = quiet_seconds
        self.counts = ""
        self.clock = Stopwatch()

    def __call__(self, text: str) -> None:
        counts = text.rsplit(",", 1)[0]
        if counts != self.counts or self.clock.seconds() >= self.quiet_seconds:
            print(PROGRESS_MARKER + text, flush=True)
            self.counts, self.clock = counts, Stopwatch()


@contextmanager
def _polling(show: Callable[[str], None], counters: Counters) -> Iterator[None]:
    clock = Stopwatch()
    done = threading.Event()

    def poll() -> None:
        while not done.wait(POLL_SECONDS):
            show(f"{_counts(counters)}, {clock.seconds():.0f} s")

    poller = threading.Thread(target=poll, name="pyml-offline-progress", daemon=True)
    poller.start()
    try:
        yield
    finally:
        done.set()
        poller.join(timeout=5)


@contextmanager
def _rich_progress(counters: Counters, title: str) -> Iterator[None]:
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = progress.add_task(title, total=None)
    with (
        progress,
        _polling(lambda text: progress.update(task, description=f"{title}: {text}"), counters),
    ):
        yield


def _counts(counters: Counters) -> str:
    return f"{counters.rows_read.value:,} rows read, {counters.rows_predicted.value:,} predicted"


@dataclass(frozen=True)
class JobSummary:
    dest_table: str
    mode: str
    rows_read: int
    rows_predicted: int
    seconds: float
    properties: dict[str, str]
    # Seconds per step of the job, in order (see `Phases`): where a slow job spent its time.
    phases: dict[str, float] = field(default_factory=dict)
    reader: str = ""  # what read the query's rows (see parquet_scan)
    writer: str = ""  # what wrote the table's files (see parquet_write)

    @property
    def rows_per_second(self) -> float:
        return self.rows_predicted / self.seconds if self.seconds > 0 else 0.0

    def text(self) -> str:
        text = (
            f"{self.dest_table}: {self.rows_predicted:,} rows predicted "
            f"({self.rows_read:,} read) in {self.seconds:.1f} s "
            f"({self.rows_per_second:,.0f} rows/s, mode {self.mode})"
        )
        if self.reader:
            text += f"\n  rows read by: {self.reader}"
        if self.writer:
            text += f"\n  rows written by: {self.writer}"
        if self.phases:
            # On a small table start-up dominates: the phases say where the time went.
            steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.phases.items())
            text += f"\n  {steps}"
        return text


class Phases:
    """Named, consecutive steps of a job: each `mark` closes the step that ran since the last."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._clock = Stopwatch()

    def mark(self, name: str) -> None:
        self.seconds[name] = round(self.seconds.get(name, 0.0) + self._clock.seconds(), 3)
        self._clock = Stopwatch()


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def seconds(self) -> float:
        return time.monotonic() - self.start
