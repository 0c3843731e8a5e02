"""One real gateway serving registered versions as real containers, while this package runs
(not the whole session: its models, their health checks and the steady traffic would load
the machine under every later test).

The examples and the faulty model are packaged once (into the session's throwaway
$PYML_HOME); the gateway reads that registry and labels its containers with an id of its
own. At the end no container with that label, no socket folder and no work dir may remain.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pandas as pd
import pytest

from pyml._internal.gateway_process import GatewayProcess, start_gateway
from pyml.client import Client, DeploymentInfo, RemoteError
from pyml.model import Model
from pyml.version import ModelVersion

GATEWAY_LABEL = "io.pyml.gateway"


@pytest.fixture(scope="package")
def gateway_id() -> str:
    return f"pyml-ct-{os.getpid()}"


@pytest.fixture(scope="package")
def packaged_faulty(pyml_home: Path, faulty_home: Path) -> Iterator[ModelVersion]:
    version = Model.from_home(faulty_home).package(name="faulty", progress=False)
    yield version
    tag = version.image.get("tag")
    if tag:
        docker.from_env().images.remove(tag, force=True, noprune=False)


# docker-py lists containers, then inspects each one: a removal in between is retried.
LIST_ATTEMPTS = 5


def labelled(
    gateway_id: str, model: str | None = None, version: int | None = None
) -> list[docker.models.containers.Container]:
    """This suite's gateway's containers (of one model, of one of its versions)."""
    labels = [f"{GATEWAY_LABEL}={gateway_id}"]
    if model is not None:
        labels.append(f"io.pyml.model.name={model}")
    if version is not None:
        labels.append(f"io.pyml.model.version={version}")
    engine = docker.from_env()
    for _ in range(LIST_ATTEMPTS - 1):
        try:
            return list(engine.containers.list(all=True, filters={"label": labels}))
        except docker.errors.NotFound:
            continue  # docker-py lists, then inspects each: one was removed in between
    return list(engine.containers.list(all=True, filters={"label": labels}))


@pytest.fixture(scope="package")
def container_gateway(
    pyml_home: Path,
    gateway_id: str,
    packaged_cancer: ModelVersion,
    packaged_tensor: ModelVersion,
    packaged_faulty: ModelVersion,
) -> Iterator[GatewayProcess]:
    # A container a crashed earlier run of this gateway id left: removed when the gateway starts.
    leftover = docker.from_env().containers.run(
        "pyml/base:bookworm-py3.11",
        ["sleep", "600"],
        detach=True,
        network_mode="none",
        labels={GATEWAY_LABEL: gateway_id, "io.pyml.model.name": "leftover"},
    )
    # Short: Unix socket paths are limited to about 107 bytes.
    work = Path(tempfile.mkdtemp(prefix="pyml-ct-", dir="/tmp"))
    try:
        gateway = start_gateway(
            ["--work-dir", str(work), "--deploy-timeout-ms", "90000"],
            registry_dir=pyml_home / "registry",
            gateway_id=gateway_id,
        )
    except BaseException:
        leftover.remove(force=True)
        shutil.rmtree(work, ignore_errors=True)
        raise
    try:
        assert labelled(gateway_id, "leftover") == [], "leftovers are removed at start"
        yield gateway
    finally:
        gateway.stop()
        left = labelled(gateway_id)
        for container in left:  # clean up first, then fail: never leak on a red run
            container.remove(force=True)
        sockets = sorted(p.name for p in work.iterdir())
        shutil.rmtree(work, ignore_errors=True)
        assert not left, f"containers left by the gateway: {[c.name for c in left]}"
        assert not sockets, f"socket folders left in {work}: {sockets}"


@pytest.fixture(scope="package")
def gateway_client(container_gateway: GatewayProcess) -> Iterator[Client]:
    with Client(container_gateway.target, timeout=60) as client:
        yield client


@pytest.fixture(scope="package")
def serving(
    gateway_client: Client, packaged_cancer: ModelVersion, packaged_tensor: ModelVersion
) -> Client:
    """The two examples served from their images (the cancer one on two replicas)."""
    gateway_client.deploy(packaged_cancer.name, replicas=2)
    gateway_client.deploy(packaged_tensor)
    return gateway_client


@pytest.fixture(scope="package")
def steady_traffic(serving: Client, cancer_rows: pd.DataFrame) -> Iterator[list[str]]:
    """Cancer predictions every 50 ms while this package runs; every error is recorded."""
    errors: list[str] = []
    calls: list[int] = [0]
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.05):
            try:
                out = serving.predict("breast_cancer_lr", cancer_rows.head(3), timeout=30)
                assert len(out) == 3
                calls[0] += 1
            except (RemoteError, AssertionError) as exc:
                errors.append(repr(exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield errors
    stop.set()
    thread.join(30)
    assert calls[0] > 0, "the steady traffic never got an answer"
    assert errors == [], f"other models failed during the fault tests: {errors[:5]}"


@pytest.fixture()
def faulty(
    serving: Client, steady_traffic: list[str], packaged_faulty: ModelVersion, gateway_id: str
) -> Iterator[Callable[..., DeploymentInfo]]:
    """Deploys the faulty version (with the given limits); undeployed after the test."""
    deployed: list[str] = []

    def deploy(resources: dict[str, object] | None = None) -> DeploymentInfo:
        info = packaged_faulty.deploy(gateway=serving.target, resources=resources, progress=False)
        deployed.append(info.model_name)
        return info

    yield deploy
    for name in deployed:
        serving.undeploy(name)
    await_gone(gateway_id, packaged_faulty.name)


def await_gone(
    gateway_id: str, model: str, within: float = 30.0, version: int | None = None
) -> None:
    """Undeploy (or a replacement) removes containers in the background: bounded wait until
    none of the model (version) is left."""
    deadline = time.monotonic() + within
    while labelled(gateway_id, model, version):
        if time.monotonic() > deadline:
            which = model if version is None else f"{model}:{version}"
            raise AssertionError(f"containers of {which} still exist {within} s after it ended")
        time.sleep(0.1)


def metric_samples(gateway: GatewayProcess) -> dict[str, float]:
    """The gateway's /metrics as {'name{labels}': value}."""
    url = f"http://127.0.0.1:{gateway.http_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        text = response.read().decode()
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
