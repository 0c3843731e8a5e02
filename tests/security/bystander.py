"""A well-behaved client on another model, kept busy while an attack runs.

Every test of `tests/security/` wraps its attack in ``with Bystander(...) as b:`` and ends with
``b.assert_served()``: the bystander sent calls throughout (bounded in count and time), every
one answered, and every answer equal to the expected one. A finding is fixed only if the
attack neither succeeds nor hurts someone else.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

import pandas as pd


@dataclass
class BystanderReport:
    calls: int = 0
    wrong: int = 0
    errors: list[str] = field(default_factory=list)
    slowest_seconds: float = 0.0


class Bystander:
    """Calls `predict()` in a thread until the block ends; compares each answer to `expected`.

    `predict` is any callable that returns a DataFrame (a pyml.Client call with its own
    timeout, a Thrift call, ...). Bounded: at most `max_calls`, `pause` between calls.
    """

    def __init__(
        self,
        predict: Callable[[], pd.DataFrame],
        expected: pd.DataFrame,
        *,
        pause: float = 0.05,
        max_calls: int = 10_000,
        min_calls: int = 3,
    ) -> None:
        self._predict = predict
        self._expected = expected.reset_index(drop=True)
        self._pause = pause
        self._max_calls = max_calls
        self._min_calls = min_calls
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bystander", daemon=True)
        self.report = BystanderReport()

    def __enter__(self) -> Bystander:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Each call has its own timeout, so the thread ends within one call's time.
        self._stop.set()
        self._thread.join(timeout=120)

    def _run(self) -> None:
        while not self._stop.is_set() and self.report.calls < self._max_calls:
            started = time.monotonic()
            try:
                answer = self._predict().reset_index(drop=True)
                if not answer.equals(self._expected):
                    self.report.wrong += 1
            except Exception as exc:
                self.report.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            self.report.calls += 1
            self.report.slowest_seconds = max(
                self.report.slowest_seconds, time.monotonic() - started
            )
            self._stop.wait(self._pause)

    def await_calls(self, count: int, within: float = 30.0) -> None:
        """Waits (bounded) until the bystander made `count` calls: when the attack was quicker
        than that, the bystander must still be seen served beside it."""
        deadline = time.monotonic() + within
        while self.report.calls < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def assert_served(self) -> None:
        """Called after the block: the bystander was answered, correctly, every time."""
        report = self.report
        assert report.calls >= self._min_calls, f"bystander made only {report.calls} calls"
        assert not report.errors, f"bystander failed {len(report.errors)}/{report.calls}: " + (
            "; ".join(report.errors[:3])
        )
        assert report.wrong == 0, f"bystander got {report.wrong}/{report.calls} wrong answers"
