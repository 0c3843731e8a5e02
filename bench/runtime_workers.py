"""Runtime workers: 1-row requests per second through the gateway at 8 in flight, one run.

    .venv/bin/python bench/runtime_workers.py [--rounds 3] [--seconds 10]

Packages the breast-cancer example into a throwaway registry, then in each round starts a
gateway twice and serves the version from its image: "1 worker" (`--container-cpus 1
--runtime-workers 1`, the defaults before runtime workers) and "defaults" (every CPU, one
runtime worker per CPU). The load keeps 8 pre-encoded 1-row Predict calls in flight on one
connection: h2load when it is installed (a C client: little of the machine's CPU), else a
grpc.aio loop; both bounded in count and in time. Prints req/s per round and the median
ratio; the spread of the rounds is the noise of this (shared) machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from sklearn.datasets import load_breast_cancer

from pyml._internal.gateway_process import start_gateway
from pyml._internal.payloads import encode_payload
from pyml.client import Client
from pyml.model import Model
from pyml.v1 import payload_pb2, prediction_pb2, prediction_pb2_grpc

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
IN_FLIGHT = 8
MAX_CALLS = 200_000
CONFIGS = {
    "1 worker": ["--container-cpus", "1", "--runtime-workers", "1"],
    "defaults": [],
}


async def load(target: str, request: prediction_pb2.PredictRequest, seconds: float) -> float:
    """Requests per second with IN_FLIGHT calls in flight for `seconds` (or MAX_CALLS)."""
    async with grpc.aio.insecure_channel(target) as channel:
        stub = prediction_pb2_grpc.PredictionServiceStub(channel)
        for _ in range(50):  # warm up: connections, JIT, every worker once
            await stub.Predict(request, timeout=30)
        done = 0
        end = time.monotonic() + seconds

        async def caller() -> None:
            nonlocal done
            while time.monotonic() < end and done < MAX_CALLS:
                await stub.Predict(request, timeout=30)
                done += 1

        start = time.monotonic()
        await asyncio.gather(*(caller() for _ in range(IN_FLIGHT)))
        return done / (time.monotonic() - start)


def h2load(target: str, request: prediction_pb2.PredictRequest, seconds: float) -> float:
    """Requests per second from h2load (one connection, IN_FLIGHT streams, `seconds`)."""
    body = request.SerializeToString()
    with tempfile.NamedTemporaryFile(suffix=".frame") as frame:
        frame.write(b"\x00" + len(body).to_bytes(4, "big") + body)  # one gRPC message
        frame.flush()
        command = ["h2load", "-c", "1", "-m", str(IN_FLIGHT), "-D", str(int(seconds))]
        command += ["-d", frame.name, "-H", "content-type: application/grpc", "-H", "te: trailers"]
        command += [f"http://{target}/pyml.v1.PredictionService/Predict"]
        out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    found = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out.stdout)
    failed = re.search(r"(\d+) failed", out.stdout)
    if not found or (failed and int(failed.group(1))):
        raise RuntimeError(f"h2load: {out.stdout[-800:]}{out.stderr[-400:]}")
    return float(found.group(1))


def measure(
    flags: list[str], registry: Path, request: prediction_pb2.PredictRequest, seconds: float
) -> float:
    work = Path(tempfile.mkdtemp(prefix="pyml-bw-", dir="/tmp"))
    gateway = start_gateway(
        ["--work-dir", str(work), *flags],
        registry_dir=registry,
        gateway_id=f"pyml-bench-workers-{os.getpid()}",
    )
    try:
        with Client(gateway.target, timeout=120) as client:
            client.deploy("breast_cancer_lr")
            if shutil.which("h2load"):
                asyncio.run(load(gateway.target, request, 1.0))  # warm up (and check answers)
                return h2load(gateway.target, request, seconds)
            return asyncio.run(load(gateway.target, request, seconds))
    finally:
        gateway.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="pyml-bench-"))
    os.environ["PYML_HOME"] = str(root / "pyml-home")
    os.environ["PYML_IMAGE_PREFIX"] = f"pyml-bench-workers-{os.getpid()}"
    home = root / "breast_cancer_lr"
    shutil.copytree(
        EXAMPLES / "breast_cancer_lr", home, ignore=shutil.ignore_patterns("validation", "*.joblib")
    )
    subprocess.run(
        [sys.executable, str(EXAMPLES / "train_breast_cancer.py"), str(home)], check=True
    )
    version = Model.from_home(home).package(progress=False)
    row = load_breast_cancer(as_frame=True).data.head(1)
    request = prediction_pb2.PredictRequest(
        model_name="breast_cancer_lr",
        payload=payload_pb2.Payload(
            kind=payload_pb2.PAYLOAD_KIND_DATAFRAME,
            arrow_ipc=encode_payload("dataframe", row),
        ),
    )
    results: dict[str, list[float]] = {name: [] for name in CONFIGS}
    try:
        for round_ in range(args.rounds):
            for name, flags in CONFIGS.items():
                rate = measure(flags, root / "pyml-home" / "registry", request, args.seconds)
                results[name].append(rate)
                print(f"round {round_ + 1}: {name:9} {rate:7.0f} req/s", flush=True)
    finally:
        import docker

        docker.from_env().images.remove(version.image["tag"], force=True)
        shutil.rmtree(root, ignore_errors=True)
    for name, rates in results.items():
        print(
            f"{name:9} median {statistics.median(rates):6.0f} req/s "
            f"(min {min(rates):.0f}, max {max(rates):.0f})"
        )
    ratio = statistics.median(results["defaults"]) / statistics.median(results["1 worker"])
    print(f"defaults / 1 worker: {ratio:.2f}x")


if __name__ == "__main__":
    main()
