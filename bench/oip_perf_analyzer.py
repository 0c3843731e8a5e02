"""Triton's perf_analyzer against the gateway's Open Inference Protocol port, next to the same
load through pyml.Client (gRPC), in one run.

    .venv/bin/python bench/oip_perf_analyzer.py [--requests 500]

perf_analyzer comes from the pinned tritonclient wheel in .venv-oip (made here if missing); it
needs Debian's libb64-0d and libcudart from PyPI's nvidia-cuda-runtime-cu12 (no GPU is used), as
docs/machine-notes.md says. The load: the softmax_tensor example, one 1x4 float32 tensor per
request, one request at a time (concurrency 1), measured in count windows; the PyML client sends
the same tensor the same number of times. Every loop is bounded in count and in time.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import pyml
from pyml._internal.gateway_process import start_gateway

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
OIP_VENV = REPO / ".venv-oip"
REQUIREMENTS = REPO / "tests" / "protocols" / "oip-requirements.txt"
CUDA_RUNTIME = "nvidia-cuda-runtime-cu12==12.9.79"
TIME_CAP_S = 120.0


def perf_analyzer() -> tuple[Path, dict[str, str]]:
    """The perf_analyzer binary and the environment it runs in; installs what is missing."""
    python = OIP_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run(["python3", "-m", "venv", str(OIP_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS), CUDA_RUNTIME],
        check=True,
        timeout=900,
    )
    if subprocess.run(["dpkg", "-s", "libb64-0d"], capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "libb64-0d"], check=True, timeout=600)
    site = next((OIP_VENV / "lib").glob("python3*/site-packages"))
    env = dict(os.environ, LD_LIBRARY_PATH=str(site / "nvidia" / "cuda_runtime" / "lib"))
    return OIP_VENV / "bin" / "perf_analyzer", env


def run_perf_analyzer(
    binary: Path, env: dict[str, str], port: int, requests: int
) -> dict[str, float]:
    report = Path(tempfile.mkdtemp(prefix="pyml-pa-")) / "report.csv"
    command = [
        str(binary),
        "-m", "softmax_tensor",
        "-i", "grpc",
        "-u", f"127.0.0.1:{port}",
        "--shape", "x:1,4",
        "--concurrency-range", "1",
        "--measurement-mode", "count_windows",
        "--measurement-request-count", str(requests),
        "--stability-percentage", "50",
        "--max-trials", "6",
        "-f", str(report),
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIME_CAP_S * 3)
    if done.returncode != 0:
        sys.exit(f"perf_analyzer failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    with report.open() as f:
        row = next(csv.DictReader(f))
    shutil.rmtree(report.parent, ignore_errors=True)
    return {
        "throughput": float(row["Inferences/Second"]),
        "p99_ms": float(row["p99 latency"]) / 1000,
    }


def run_pyml_client(target: str, requests: int) -> dict[str, float]:
    x = np.random.default_rng(0).normal(size=(1, 4)).astype(np.float32)
    samples: list[float] = []
    with pyml.Client(target) as client:
        for _ in range(min(requests, 200)):  # warm-up, as perf_analyzer's first windows are
            client.predict("softmax_tensor", {"x": x})
        started = time.perf_counter()
        deadline = time.monotonic() + TIME_CAP_S
        while len(samples) < requests and time.monotonic() < deadline:
            begin = time.perf_counter()
            client.predict("softmax_tensor", {"x": x})
            samples.append((time.perf_counter() - begin) * 1000)
        elapsed = time.perf_counter() - started
    ordered = sorted(samples)
    return {
        "throughput": len(samples) / elapsed,
        "p99_ms": ordered[max(0, round(0.99 * len(ordered)) - 1)],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500, help="requests per window / run")
    args = parser.parse_args()

    binary, env = perf_analyzer()
    home = Path(tempfile.mkdtemp(prefix="pyml-bench-")) / "softmax_tensor"
    shutil.copytree(
        EXAMPLES / "softmax_tensor", home, ignore=shutil.ignore_patterns("validation", "*.npz")
    )
    subprocess.run(
        [sys.executable, str(EXAMPLES / "make_softmax_tensor.py"), str(home)], check=True
    )
    gateway = start_gateway(home_deploy_roots=[home])  # development mode: a home as a process
    try:
        with pyml.Client(gateway.target) as client:
            client.deploy(home)
        grpc = run_pyml_client(gateway.target, args.requests)
        oip = run_perf_analyzer(binary, env, gateway.oip_port, args.requests)
    finally:
        gateway.stop()
        shutil.rmtree(home.parent, ignore_errors=True)
    print(f"{'path (softmax_tensor, 1x4 float32, concurrency 1)':<52} {'infer/s':>9} {'p99 ms':>8}")
    for name, result in [
        ("pyml.Client → gateway gRPC", grpc),
        ("perf_analyzer → gateway OIP gRPC (V2 ⇄ Arrow)", oip),
    ]:
        print(f"{name:<52} {result['throughput']:>9.1f} {result['p99_ms']:>8.2f}")
    print(f"OIP / PyML gRPC throughput: {oip['throughput'] / grpc['throughput']:.2f}x")


if __name__ == "__main__":
    main()
