"""What a wait costs the next call: the same model call back to back, and after an idle gap.

    .venv/bin/python bench/idle_gap_floor.py [--home examples/breast_cancer_lr] [--calls 300]
        [--gaps-ms 0,0.5,2]

At one call in flight (c=1) every process on a call's path sleeps between calls, and on this
machine's virtual CPUs the work after a sleep costs more than the same work back to back (cold
caches, a CPU that was given away): the 1-row figures of `make bench-peers` at c=1, and
`pyml.Client`'s, are paid at that price. This times, in one process with one thread in its
OpenBLAS pool (a runtime worker's share with two workers on two CPUs), the model's own
`predict` on a 1-row DataFrame, what PyML's runtime calls, and, when the home has the example's
`model.joblib`, the pipeline's `predict_proba` on a numpy row, what MLServer's sklearn runtime
calls: the median wall and CPU time of a call, back to back (gap 0) and after each sleep.
Bounded in calls (`--calls` per line).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import joblib
from threadpoolctl import threadpool_limits

from pyml_runtime import codec
from pyml_runtime.dataplane import Dataplane
from pyml_runtime.loader import load_model

ROOT = Path(__file__).resolve().parents[1]


def timed(call: Callable[[], object], calls: int, gap_s: float) -> tuple[float, float]:
    """Median wall and CPU ms of `call`, each after a sleep of `gap_s` (none when 0)."""
    call()
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(calls):
        if gap_s:
            time.sleep(gap_s)
        wall, cpu = time.perf_counter(), time.thread_time()
        call()
        cpus.append(time.thread_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return 1000 * statistics.median(walls), 1000 * statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=ROOT / "examples" / "breast_cancer_lr")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--gaps-ms", default="0,0.5,2")
    args = parser.parse_args()
    threadpool_limits(1)
    loaded = load_model(args.home)
    row = Dataplane.for_home(loaded).input_rows().slice(0, 1)
    frame = codec.table_to_dataframe(row)
    steps: dict[str, Callable[[], object]] = {
        "model.predict(1-row DataFrame)": lambda: loaded.instance.predict(frame),
    }
    if (args.home / "model.joblib").exists():
        pipeline = joblib.load(args.home / "model.joblib")
        numbers = frame[list(pipeline.feature_names_in_)].to_numpy()
        # MLServer passes an array; sklearn warns each call that it has no feature names.
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        steps["predict_proba(1-row numpy)"] = lambda: pipeline.predict_proba(numbers)
    for gap_ms in (float(gap) for gap in args.gaps_ms.split(",")):
        for name, step in steps.items():
            wall, cpu = timed(step, args.calls, gap_ms / 1000)
            print(
                f"{name:31s} gap {gap_ms:3.1f} ms: wall {wall:5.2f} ms, CPU {cpu:5.2f} ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
