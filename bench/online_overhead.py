"""Online overhead: gateway → runtime sidecar → model, against in-process predict, one run.

    .venv/bin/python bench/online_overhead.py [--repeats 300]

Prints median and p99 latency for a 1-row and a 10,000-row frame of the breast cancer
example, for: the model object's own predict (the floor), pyml.Model.predict (adds the Arrow
codec, the same path as serving) and pyml.Client.predict through the gateway. Ratios are
against the model's own predict measured in the same run; every loop is bounded in count
and in time.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sklearn.datasets import load_breast_cancer
from timing import measure, p99

import pyml
from pyml._internal.gateway_process import start_gateway

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="pyml-bench-")) / "breast_cancer_lr"
    skip = shutil.ignore_patterns("validation", "*.joblib")
    shutil.copytree(EXAMPLES / "breast_cancer_lr", home, ignore=skip)
    train = EXAMPLES / "train_breast_cancer.py"
    subprocess.run([sys.executable, str(train), str(home)], check=True)
    data = load_breast_cancer(as_frame=True).data
    frames = {
        "1 row": data.head(1),
        "10,000 rows": data.sample(10_000, replace=True, random_state=0).reset_index(drop=True),
    }
    model = pyml.Model.from_home(home)
    raw_model = model._loaded.instance  # the user's object: the floor nobody can beat

    gateway = start_gateway(home_deploy_roots=[home])  # development mode: a home as a process
    try:
        with pyml.Client(gateway.target) as client:
            client.deploy(home)
            report(frames, raw_model.predict, model.predict, client, args.repeats)
    finally:
        gateway.stop()
        shutil.rmtree(home.parent, ignore_errors=True)


def report(
    frames: dict[str, pd.DataFrame],
    raw: Callable[[pd.DataFrame], object],
    local: Callable[[pd.DataFrame], object],
    client: pyml.Client,
    repeats: int,
) -> None:
    print(f"{'frame':<12} {'path':<28} {'median ms':>10} {'p99 ms':>9} {'x model':>9}")
    for label, frame in frames.items():
        n = repeats if len(frame) == 1 else max(20, repeats // 10)
        paths = {
            "model.predict (in-process)": lambda f=frame: raw(f),
            "pyml.Model.predict (codec)": lambda f=frame: local(f),
            "gateway → sidecar → model": lambda f=frame: client.predict("breast_cancer_lr", f),
        }
        base = None
        for name, call in paths.items():
            samples = measure(call, n)
            median = statistics.median(samples)
            base = base or median
            print(
                f"{label:<12} {name:<28} {median:>10.3f} {p99(samples):>9.3f} "
                f"{median / base:>8.2f}x  (n={len(samples)})"
            )


if __name__ == "__main__":
    main()
