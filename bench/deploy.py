"""Deploying a packaged version: deploy-to-READY, restart-to-READY, online latency by runtime.

    .venv/bin/python bench/deploy.py [--repeats 300] [--deploys 3]

Packages the breast cancer example into a throwaway $PYML_HOME (image build not timed),
starts a gateway on that registry and measures, in one run:
- deploy-to-READY of the registered version as a container (median of --deploys);
- restart-to-READY after `docker kill` of its container (the supervisor's detection,
  backoff, container start, model load and validation);
- 1-row prediction latency through the container runtime, through a process runtime of the
  same home, and in-process `pyml.Model.predict`, with ratios against in-process.
Every loop is bounded in count and in time; everything it starts is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker
from sklearn.datasets import load_breast_cancer
from timing import TIME_CAP_S, measure, p99

import pyml
from pyml._internal.gateway_process import start_gateway

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NAME = "breast_cancer_lr"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--deploys", type=int, default=3)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="pyml-bench-"))
    scratch.chmod(0o711)  # a root gateway's runtime user (65534) passes through to its sockets
    os.environ["PYML_HOME"] = str(scratch / "pyml-home")
    os.environ["PYML_IMAGE_PREFIX"] = f"pyml-bench-{os.getpid()}"
    home = scratch / NAME
    shutil.copytree(EXAMPLES / NAME, home, ignore=shutil.ignore_patterns("validation", "*.joblib"))
    subprocess.run(
        [sys.executable, str(EXAMPLES / "train_breast_cancer.py"), str(home)], check=True
    )
    model = pyml.Model.from_home(home)
    version = model.package(progress=False)
    gateway_id = f"pyml-bench-{os.getpid()}"
    gateway = start_gateway(
        ["--work-dir", str(scratch / "w")],
        registry_dir=scratch / "pyml-home" / "registry",
        gateway_id=gateway_id,
        home_deploy_roots=[home],  # development mode: the same home as a process, for comparison
    )
    try:
        with pyml.Client(gateway.target, timeout=120) as client:
            run(client, model, home, gateway_id, args.repeats, args.deploys)
    finally:
        gateway.stop()
        for container in docker.from_env().containers.list(
            all=True, filters={"label": [f"io.pyml.gateway={gateway_id}"]}
        ):
            container.remove(force=True)
        docker.from_env().images.remove(version.image["tag"], force=True)
        shutil.rmtree(scratch, ignore_errors=True)


def run(
    client: pyml.Client,
    model: pyml.Model,
    home: Path,
    gateway_id: str,
    repeats: int,
    deploys: int,
) -> None:
    ready_s = []
    for _ in range(max(1, deploys)):
        started = time.perf_counter()
        client.deploy(NAME)
        ready_s.append(time.perf_counter() - started)
        client.undeploy(NAME)
        time.sleep(1.0)  # the container is removed in the background
    client.deploy(NAME)
    [container] = docker.from_env().containers.list(
        filters={"label": [f"io.pyml.gateway={gateway_id}", f"io.pyml.model.name={NAME}"]}
    )
    killed = time.perf_counter()
    container.kill()
    restart_s = float("nan")
    while time.perf_counter() - killed < TIME_CAP_S:
        info = client.deployment(NAME)
        if info.state == "READY" and info.restarts > 0:
            restart_s = time.perf_counter() - killed
            break
        time.sleep(0.05)

    client.deploy(home, name=f"{NAME}_process")
    row = load_breast_cancer(as_frame=True).data.head(1)
    results = {
        "in-process Model.predict": measure(lambda: model.predict(row), repeats),
        "gateway → process runtime": measure(
            lambda: client.predict(f"{NAME}_process", row), repeats
        ),
        "gateway → container runtime": measure(lambda: client.predict(NAME, row), repeats),
    }
    print(
        f"deploy-to-READY (container, image built): median {statistics.median(ready_s):.2f} s "
        f"over {len(ready_s)} deploys ({', '.join(f'{s:.2f}' for s in ready_s)})"
    )
    print(f"restart-to-READY after docker kill: {restart_s:.2f} s")
    base = statistics.median(results["in-process Model.predict"])
    print(f"{'1-row predict':32} {'median ms':>10} {'p99 ms':>8} {'x in-process':>13}")
    for label, samples in results.items():
        median = statistics.median(samples)
        print(f"{label:32} {median:10.2f} {p99(samples):8.2f} {median / base:13.1f}")


if __name__ == "__main__":
    main()
