"""Offline throughput: the Spark job in the model's image against in-process predict, one run.

    .venv/bin/python bench/offline.py [--rows 1000000]

Trains and packages the breast cancer example in a throwaway $PYML_HOME, makes a table of
`--rows` resampled noisy rows, then measures:
- the job's fixed start-up cost: a containerized job over 1 row (container, JVM, metastore,
  Python worker and model load, atomic table swap);
- the job over all rows (wall time as the user waits for it), and the rows/s net of the fixed cost;
- the model object's own predict and pyml.Model.predict over the same rows in this process
  (the same 2 cores the job's container gets).
Ratios are offline rows/s over in-process rows/s (goal: ≥ 0.5 net of start-up).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyml
from pyml_offline.sample_tables import cancer_rows

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="pyml-bench-off-", dir="/tmp"))
    os.environ["PYML_HOME"] = str(scratch / "home")
    os.environ.setdefault("PYML_IMAGE_PREFIX", f"pyml-bench-{os.getpid()}")
    version = None
    try:
        home = shutil.copytree(EXAMPLES / "breast_cancer_lr", scratch / "breast_cancer_lr")
        train = [sys.executable, str(EXAMPLES / "train_breast_cancer.py"), str(home)]
        subprocess.run(train, check=True, capture_output=True)
        version = pyml.Model.from_home(home).package(progress=False)
        make = [sys.executable, "-m", "pyml_offline.sample_tables", "--table", "bench.rows"]
        subprocess.run([*make, "--rows", str(args.rows)], check=True, capture_output=True)
        # The first job also prepares the JRE and pyspark caches: not part of either figure.
        version.predict_offline("SELECT * FROM bench.rows LIMIT 1", "bench.warm", progress=False)
        fixed = _timed(
            lambda: version.predict_offline(
                "SELECT * FROM bench.rows LIMIT 1", "bench.one", progress=False
            )
        )
        total = _timed(
            lambda: version.predict_offline(
                "SELECT * FROM bench.rows", "bench.all", key_columns=["id"], progress=False
            )
        )
        rows = cancer_rows(args.rows).drop(columns="id")
        model = pyml.Model.from_home(home)
        own = _timed(lambda: model._loaded.instance.predict(rows))
        via_pyml = _timed(lambda: model.predict(rows))
        _report(args.rows, fixed, total, own, via_pyml)
    finally:
        if version is not None:
            subprocess.run(["docker", "rmi", "-f", str(version.image["tag"])], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)


def _report(rows: int, fixed: float, total: float, own: float, via_pyml: float) -> None:
    net = max(total - fixed, 1e-9)
    in_process = rows / own
    print(f"rows: {rows:,}")
    print(f"job fixed start-up cost (1 row):   {fixed:7.1f} s")
    print(f"job over all rows (wall):          {total:7.1f} s  {rows / total:12,.0f} rows/s")
    print(f"job net of start-up:               {net:7.1f} s  {rows / net:12,.0f} rows/s")
    print(f"model's own predict, in-process:   {own:7.1f} s  {in_process:12,.0f} rows/s")
    print(f"pyml.Model.predict, in-process:    {via_pyml:7.1f} s  {rows / via_pyml:12,.0f} rows/s")
    print(f"ratio offline/in-process, net:      {rows / net / in_process:.2f}  (goal ≥ 0.5)")
    print(f"ratio offline/in-process, wall:     {rows / total / in_process:.2f}")


if __name__ == "__main__":
    main()
