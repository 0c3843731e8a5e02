"""Bounded timing loops shared by the benchmarks (run as `python bench/NAME.py`).

Every loop is bounded in count and in time; the warm-up lets the gateway's JIT settle (a few
hundred calls) before samples are taken.
"""

from __future__ import annotations

import time
from collections.abc import Callable

TIME_CAP_S = 60.0
WARM_UP_S = 10.0


def measure(call: Callable[[], object], repeats: int) -> list[float]:
    """Milliseconds per call, after a warm-up of up to `repeats` calls or WARM_UP_S."""
    warm_until = time.monotonic() + WARM_UP_S
    for _ in range(repeats):
        if time.monotonic() > warm_until:
            break
        call()
    samples: list[float] = []
    deadline = time.monotonic() + TIME_CAP_S
    while len(samples) < repeats and time.monotonic() < deadline:
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p99(samples: list[float]) -> float:
    return sorted(samples)[max(0, round(0.99 * len(samples)) - 1)]
