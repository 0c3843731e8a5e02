"""An offline job's progress when stderr is not a terminal (a log, CI, a pipe): printed lines,
not a status line that only a terminal shows (issue 15)."""

from __future__ import annotations

from typing import Any

import pytest

from pyml_offline import runner
from pyml_offline.progress import PROGRESS_MARKER


class FakeContainer:
    """A job container that reports two progress lines, then exits."""

    def __init__(self) -> None:
        self.polls = 0
        self.status = "running"

    def reload(self) -> None:
        self.polls += 1
        if self.polls > 3:
            self.status = "exited"

    def logs(self, stdout: bool = True, stderr: bool = True, tail: int | None = None) -> bytes:
        shown = ["phase: reading", "rows 100 of 300"][: min(self.polls, 2)]
        return "".join(f"{PROGRESS_MARKER}{line}\n" for line in shown).encode()

    def kill(self) -> None:
        raise AssertionError("the fake exits on its own")


def test_progress_is_printed_as_lines_off_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    monkeypatch.setattr(runner, "LINES_EVERY_SECONDS", 0.0)
    monkeypatch.setattr(runner.time, "sleep", lambda seconds: None)
    runner._follow(FakeContainer(), 60, "m:1", True, "starting Spark…")
    assert capsys.readouterr().err.splitlines() == [
        "offline job with m:1: starting Spark…",
        "offline job with m:1: phase: reading",
        "offline job with m:1: rows 100 of 300",
    ]
