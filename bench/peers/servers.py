"""The two servers under test, each started with its default settings and stopped by its PID.

MLServer 1.7 with mlserver-sklearn runs from its own virtualenv (.venv-mlserver, made here when
missing; uvloop < 0.22, as newer uvloop crashes its worker pool at start). The one setting we
change is `grpc_max_message_length`: MLServer's default is gRPC's 4 MiB, below a 100,000-row
request (24 MB). PyML: the example packaged as an image in a throwaway registry, a gateway with
its own --gateway-id, the registered version deployed as a hardened container.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

import pyml
from bench.peers.frames import v2
from pyml._internal.gateway_process import GatewayProcess, start_gateway

REPO = Path(__file__).resolve().parents[2]
MLSERVER_VENV = REPO / ".venv-mlserver"
MLSERVER_PACKAGES = ["mlserver", "mlserver-sklearn", "uvloop<0.22"]
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
START_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def ensure_mlserver() -> Path:
    """The `mlserver` command of .venv-mlserver; creates and fills the virtualenv if missing."""
    mlserver = MLSERVER_VENV / "bin" / "mlserver"
    if not mlserver.exists():
        subprocess.run([sys.executable, "-m", "venv", str(MLSERVER_VENV)], check=True)
        pip = [str(MLSERVER_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, *MLSERVER_PACKAGES], check=True, timeout=1200)
    return mlserver


@dataclass
class MLServer:
    process: subprocess.Popen[bytes]
    grpc_port: int
    log: Path

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"


@contextmanager
def mlserver(model_file: Path, name: str, workdir: Path) -> Iterator[MLServer]:
    """MLServer serving `model_file` (joblib) as `name`, predict_proba by default."""
    command = ensure_mlserver()
    root = workdir / "mlserver"
    (root / name).mkdir(parents=True)
    shutil.copy(model_file, root / name / "model.joblib")
    (root / name / "model-settings.json").write_text(
        json.dumps(
            {
                "name": name,
                "implementation": "mlserver_sklearn.SKLearnModel",
                "parameters": {"uri": "./model.joblib", "extra": {"predict_fn": "predict_proba"}},
            }
        )
    )
    grpc_port = free_port()
    settings = {
        "http_port": free_port(),
        "grpc_port": grpc_port,
        "metrics_port": free_port(),
        "grpc_max_message_length": MAX_MESSAGE_BYTES,
    }
    (root / "settings.json").write_text(json.dumps(settings))
    log = workdir / "mlserver.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(command), "start", str(root)],
            cwd=root,  # its metrics folder (.metrics) goes under the run's work folder
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its worker processes share our child's process group
        )
    server = MLServer(process, grpc_port, log)
    try:
        wait_v2_ready(server.target, name, process, log)
        yield server
    finally:
        stop_group(process)


def wait_v2_ready(target: str, model: str, process: subprocess.Popen[bytes], log: Path) -> None:
    pb = v2()
    deadline = time.monotonic() + START_TIMEOUT_S
    with grpc.insecure_channel(target) as channel:
        ready = channel.unary_unary(
            "/inference.GRPCInferenceService/ModelReady",
            request_serializer=pb.ModelReadyRequest.SerializeToString,
            response_deserializer=pb.ModelReadyResponse.FromString,
        )
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if ready(pb.ModelReadyRequest(name=model), timeout=2).ready:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"MLServer did not serve {model} within {START_TIMEOUT_S:.0f} s:\n{tail}")


def stop_group(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM to the process group we started (our child is its leader), then SIGKILL."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)


@dataclass
class PymlServer:
    gateway: GatewayProcess
    client: pyml.Client
    gateway_id: str
    name: str

    def metrics(self) -> dict[str, float]:
        """The gateway's Prometheus samples of this model, keyed by `name{labels}`."""
        url = f"http://127.0.0.1:{self.gateway.http_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
        samples: dict[str, float] = {}
        for line in text.splitlines():
            if line.startswith("#") or f'model="{self.name}"' not in line:
                continue
            key, _, value = line.rpartition(" ")
            samples[key] = float(value)
        return samples

    def restarts(self) -> int:
        return sum(d.restarts for d in self.client.deployments() if d.model_name == self.name)


@contextmanager
def pyml_server(
    home: Path,
    workdir: Path,
    deploy: Mapping[str, Any],
    gateway_args: Sequence[str],
) -> Iterator[PymlServer]:
    """The home packaged into an image, served by a gateway of our own as a container;
    `deploy`: keyword arguments of Client.deploy (resources=..., replicas=...)."""
    os.environ["PYML_HOME"] = str(workdir / "pyml-home")
    os.environ["PYML_IMAGE_PREFIX"] = f"pyml-bench-peers-{os.getpid()}"
    model = pyml.Model.from_home(home)
    version = model.package(progress=False)
    gateway_id = f"pyml-bench-peers-{os.getpid()}"
    gateway = start_gateway(
        ["--work-dir", str(workdir / "gateway-work"), *gateway_args],
        registry_dir=workdir / "pyml-home" / "registry",
        gateway_id=gateway_id,
    )
    try:
        with pyml.Client(gateway.target, timeout=120) as client:
            client.deploy(model.name, **deploy)
            yield PymlServer(gateway, client, gateway_id, model.name)
    finally:
        gateway.stop()
        remove_containers_and_image(gateway_id, version.image["tag"])


def remove_containers_and_image(gateway_id: str, tag: str) -> None:
    import docker

    engine = docker.from_env()
    label = f"io.pyml.gateway={gateway_id}"
    for container in engine.containers.list(all=True, filters={"label": [label]}):
        container.remove(force=True)
    engine.images.remove(tag, force=True)
