"""Triton's perf_analyzer on an Open Inference Protocol gRPC port, with real rows as input.

The binary and its environment come from bench/oip_perf_analyzer.py (.venv-oip). PyML's OIP
front end serves a DataFrame model as one 1-D input per column (docs/wire-format.md); MLServer
takes the rows as one [n, 30] FP64 tensor. Failures are recorded, not raised: a peer that lacks
a call perf_analyzer needs still leaves the rest of the run standing.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

from bench.oip_perf_analyzer import perf_analyzer
from bench.peers.frames import V2_INPUT

TIME_CAP_S = 300.0


def columns_input(rows: pd.DataFrame) -> dict[str, object]:
    """PyML's OIP layout: one FP64 input of shape [n] per DataFrame column."""
    return {
        str(name): {"content": rows[name].astype("float64").tolist(), "shape": [len(rows)]}
        for name in rows.columns
    }


def matrix_input(rows: pd.DataFrame) -> dict[str, object]:
    """MLServer's layout: the rows as one [n, 30] FP64 tensor."""
    return {
        V2_INPUT: {
            "content": rows.to_numpy(dtype="float64").ravel().tolist(),
            "shape": list(rows.shape),
        }
    }


def run_perf_analyzer(
    port: int, model: str, data: dict[str, object], concurrency: list[int], requests: int
) -> dict[int, dict[str, float]] | str:
    """{concurrency: {throughput, p50_ms}}, or the error text when perf_analyzer failed."""
    binary, env = perf_analyzer()
    scratch = Path(tempfile.mkdtemp(prefix="pyml-pa-"))
    (scratch / "data.json").write_text(json.dumps({"data": [data]}))
    command = [
        str(binary),
        "-m", model,
        "-i", "grpc",
        "-u", f"127.0.0.1:{port}",
        "--input-data", str(scratch / "data.json"),
        "--concurrency-range", f"{min(concurrency)}:{max(concurrency)}:"
        f"{max(1, max(concurrency) - min(concurrency))}",
        "--measurement-mode", "count_windows",
        "--measurement-request-count", str(requests),
        "--stability-percentage", "50",
        "--max-trials", "6",
        "-f", str(scratch / "report.csv"),
    ]  # fmt: skip
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIME_CAP_S)
        if done.returncode != 0:
            return f"perf_analyzer failed ({done.returncode}): {(done.stdout + done.stderr)[-600:]}"
        with (scratch / "report.csv").open() as f:
            return {
                int(row["Concurrency"]): {
                    "throughput": float(row["Inferences/Second"]),
                    "p50_ms": float(row["p50 latency"]) / 1000,
                }
                for row in csv.DictReader(f)
            }
    except subprocess.TimeoutExpired:
        return f"perf_analyzer over its {TIME_CAP_S:.0f} s cap"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
