"""The in-process floor: two processes calling the model on the same rows, with no server,
codec or socket in between (the most a 2-core machine can do).

Two floors: the pipeline's `predict_proba` (on a DataFrame, or on a numpy array as MLServer's
sklearn runtime passes it), and the example's own `model.py` `predict`, which is what PyML's
runtime calls for each request as the example is (it also selects the columns and builds the
answer's DataFrame). Each process's native thread pools (OpenBLAS) get its share of the CPUs,
as PyML's runtime workers do: pools as wide as the machine spin against each other, and at
100,000 rows two processes with them did 8.8-9.5M rows/s against 15.5-15.8M with one thread
each."""

from __future__ import annotations

import multiprocessing
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
from threadpoolctl import threadpool_limits

from bench.idle_gap_floor import timed
from bench.socket_hop_floor import hop
from pyml_runtime import codec
from pyml_runtime.loader import load_model
from pyml_runtime.workers import cpu_limit, native_threads

Rows = pd.DataFrame | np.ndarray


def _pipeline_call(model_file: Path, rows: Rows) -> Callable[[], object]:
    pipeline = joblib.load(model_file)
    return lambda: pipeline.predict_proba(rows)


def _model_call(home: Path, rows: Rows) -> Callable[[], object]:
    """The home's model's `predict` on the frame PyML's runtime makes of these rows."""
    model = load_model(home).instance
    frame = codec.table_to_dataframe(pa.Table.from_pandas(rows, preserve_index=False))
    return lambda: model.predict(frame)


def _calls(
    make: Callable[[Path, Rows], Callable[[], object]],
    source: Path,
    rows: Rows,
    max_calls: int,
    seconds: float,
    processes: int,
) -> float:
    """Calls per second of one process (after one warm-up call), bounded in count and time."""
    threadpool_limits(native_threads(processes, cpu_limit()))
    call = make(source, rows)
    call()
    calls = 0
    started = time.perf_counter()
    deadline = started + seconds
    while calls < max_calls and time.perf_counter() < deadline:
        call()
        calls += 1
    return calls / (time.perf_counter() - started)


def _together(
    make: Callable[[Path, Rows], Callable[[], object]],
    source: Path,
    rows: Rows,
    seconds: float,
    processes: int,
) -> dict[str, float]:
    """Calls/s and rows/s of `processes` processes together."""
    context = multiprocessing.get_context("spawn")
    args = (make, source, rows, 1_000_000, seconds, processes)
    with context.Pool(processes) as pool:
        rates = pool.starmap(_calls, [args] * processes)
    calls_per_s = sum(rates)
    return {"calls_per_s": calls_per_s, "rows_per_s": calls_per_s * len(rows)}


def floor(model_file: Path, rows: Rows, seconds: float, processes: int = 2) -> dict[str, float]:
    """The pipeline's `predict_proba`, `processes` processes together."""
    return _together(_pipeline_call, model_file, rows, seconds, processes)


def model_floor(
    home: Path, rows: pd.DataFrame, seconds: float, processes: int = 2
) -> dict[str, float]:
    """The home's model's `predict`, `processes` processes together."""
    return _together(_model_call, home, rows, seconds, processes)


# The model's predict after a wait, beside the c=1 figures: so many calls.
WAIT_CALLS = 300


def model_after_wait(home: Path, rows: pd.DataFrame, wait_s: float) -> dict[str, float]:
    """The wait and the median wall ms of the model's `predict`, each call after it: at one call
    in flight every process on the path waits between calls, and on this machine work after a
    wait costs more than back to back (bench/idle_gap_floor.py). The run passes the shortest
    wait any server has between two calls at c=1: an empty answer's round trip. One process,
    one native thread (a runtime worker's share on two CPUs), WAIT_CALLS calls."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        ms = float(pool.apply(_after_wait, (home, rows, WAIT_CALLS, wait_s)))
    return {"wait_ms": 1000 * wait_s, "ms": ms}


def _after_wait(home: Path, rows: pd.DataFrame, calls: int, wait_s: float) -> float:
    threadpool_limits(1)
    wall_ms, _ = timed(_model_call(home, rows), calls, wait_s)
    return wall_ms


HOP_SENDS = 10


def socket_hops(size: int, folder: Path) -> dict[str, float]:
    """CPU ms (sender + receiver) to move `size` bytes once over loopback TCP (a client to the
    gateway) and once over a Unix socket (the gateway to the runtime): what any proxy between
    them pays before it parses a byte (bench/socket_hop_floor.py)."""
    tcp = hop(socket.AF_INET, ("127.0.0.1", 0), size, HOP_SENDS)
    unix = hop(
        socket.AF_UNIX, str(Path(tempfile.mkdtemp(dir=folder)) / "hop.sock"), size, HOP_SENDS
    )
    return {
        "tcp": tcp["send_ms"] + tcp["receive_ms"],
        "unix": unix["send_ms"] + unix["receive_ms"],
    }
