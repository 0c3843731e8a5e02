"""The in-process floor: two processes calling the pipeline's predict_proba on the same rows,
with no server, codec or socket in between (the most a 2-core machine can do).

Each process's native thread pools (OpenBLAS) get its share of the CPUs, as PyML's runtime
workers do: pools as wide as the machine spin against each other, and at 100,000 rows two
processes with them did 8.8-9.5M rows/s against 15.5-15.8M with one thread each."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from pyml_runtime.workers import cpu_limit, native_threads


def _calls(
    model_file: Path,
    rows: pd.DataFrame | np.ndarray,
    max_calls: int,
    seconds: float,
    processes: int,
) -> float:
    """Calls per second of one process (after one warm-up call), bounded in count and time."""
    threadpool_limits(native_threads(processes, cpu_limit()))
    pipeline = joblib.load(model_file)
    pipeline.predict_proba(rows)
    calls = 0
    started = time.perf_counter()
    deadline = started + seconds
    while calls < max_calls and time.perf_counter() < deadline:
        pipeline.predict_proba(rows)
        calls += 1
    return calls / (time.perf_counter() - started)


def floor(
    model_file: Path, rows: pd.DataFrame | np.ndarray, seconds: float, processes: int = 2
) -> dict[str, float]:
    """Calls/s and rows/s of `processes` processes together."""
    context = multiprocessing.get_context("spawn")
    args = (model_file, rows, 1_000_000, seconds, processes)
    with context.Pool(processes) as pool:
        rates = pool.starmap(_calls, [args] * processes)
    calls_per_s = sum(rates)
    return {"calls_per_s": calls_per_s, "rows_per_s": calls_per_s * len(rows)}
