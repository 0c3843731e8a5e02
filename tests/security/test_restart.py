"""Finding 9: a gateway restart forgets nothing, and Docker outages are ridden out.

A gateway records its desired deployments in its state folder; restarted after `kill -9` with
the same id, it adopts the containers it left serving (same container, no redeploy). A Docker
engine that goes away for a while, or a container killed while its model loads, is retried
within `--docker-retry-ms` instead of failing the deployment for good.

The Docker outage is played on a proxy of our own in front of the real engine (never the
machine's dockerd, which other suites use): the test takes the proxy away and brings it back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pandas as pd
import pytest

from pyml._internal.gateway_process import GatewayProcess, start_gateway
from pyml.client import Client
from pyml.version import ModelVersion
from pyml_runtime.validation import load_validation
from tests.polling import await_deployment, await_true
from tests.security.bystander import Bystander

GATEWAY_LABEL = "io.pyml.gateway"
CANCER = "breast_cancer_lr"
TENSOR = "softmax_tensor"
ENGINE = "/var/run/docker.sock"
OUTAGE_SECONDS = 16.0


def labelled(gateway_id: str, model: str | None = None) -> list[str]:
    """Ids of this gateway id's containers (of one model), running or not."""
    labels = [f"{GATEWAY_LABEL}={gateway_id}"]
    if model is not None:
        labels.append(f"io.pyml.model.name={model}")
    found = docker.from_env().containers.list(all=True, filters={"label": labels})
    return sorted(c.id for c in found)


def remove_labelled(gateway_id: str) -> None:
    for container_id in labelled(gateway_id):
        docker.from_env().containers.get(container_id).remove(force=True)


@pytest.fixture()
def state_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The gateway's state folder, by environment (an unknown flag would stop an old jar)."""
    state = tmp_path / "state"
    monkeypatch.setenv("PYML_GATEWAY_STATE_DIR", str(state))
    return state


def test_kill9_restart_adopts_running_containers(
    pyml_home: Path, packaged_cancer: ModelVersion, cancer_rows: pd.DataFrame, state_env: Path
) -> None:
    gateway_id = f"pyml-rs-{os.getpid()}"
    work = Path(f"/tmp/pyml-gw-{gateway_id}")  # the default work dir: stable per gateway id
    rows = cancer_rows.head(5)

    def start() -> GatewayProcess:
        return start_gateway(registry_dir=pyml_home / "registry", gateway_id=gateway_id)

    # A container of a model nobody wants any more, left by the same gateway id.
    docker.from_env().containers.run(
        "pyml/base:bookworm-py3.11",
        ["sleep", "600"],
        detach=True,
        network_mode="none",
        labels={GATEWAY_LABEL: gateway_id, "io.pyml.model.name": "not_desired"},
    )
    gateway = start()
    try:
        with Client(gateway.target, timeout=60) as client:
            client.deploy(packaged_cancer.name)
            expected = client.predict(CANCER, rows)
        [container] = labelled(gateway_id, CANCER)

        gateway.process.kill()  # kill -9: no shutdown hook, containers keep running
        gateway.process.wait(10)
        gateway = start()
        with Client(gateway.target, timeout=60) as client:
            # Served from the first call, without a redeploy, by the very same container.
            pd.testing.assert_frame_equal(client.predict(CANCER, rows), expected)
            info = client.deployment(CANCER)
            assert (info.state, info.model_version, info.restarts) == ("READY", 1, 0)
            assert labelled(gateway_id, CANCER) == [container]
            assert labelled(gateway_id, "not_desired") == [], "undesired leftovers are removed"

            client.undeploy(CANCER)
            await_true(lambda: labelled(gateway_id) == [], 30, "removed after undeploy")
        gateway.stop()
        # A gateway restarted after the undeploy serves nothing, and a normal stop leaves no
        # work dir behind.
        assert not work.exists(), f"work dir {work} left after a normal stop"
        gateway = start()
        with Client(gateway.target) as client:
            assert client.deployments() == []
    finally:
        gateway.stop()
        remove_labelled(gateway_id)  # the stray too, if a failure left it
        shutil.rmtree(work, ignore_errors=True)


class DockerProxy:
    """A Unix-socket proxy to the real engine: `stop()` takes Docker away (listener and every
    open connection), `start()` brings it back on the same path. Loopback-only by nature."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        self.path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self.path.unlink(missing_ok=True)
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            _close(connection)

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                engine.connect(ENGINE)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._connections += [client, engine]
            for source, target in ((client, engine), (engine, client)):
                threading.Thread(target=_pump, args=(source, target), daemon=True).start()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        _close(source)
        _close(target)


def _close(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()


@pytest.fixture(scope="module")
def proxy() -> Iterator[DockerProxy]:
    path = Path(f"/tmp/pyml-dproxy-{os.getpid()}.sock")
    proxied = DockerProxy(path)
    proxied.start()
    yield proxied
    proxied.stop()


@pytest.fixture(scope="module")
def proxied_gateway(
    pyml_home: Path,
    proxy: DockerProxy,
    packaged_cancer: ModelVersion,
    packaged_tensor: ModelVersion,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[GatewayProcess, str]]:
    """A gateway that reaches Docker only through the proxy, serving both examples."""
    gateway_id = f"pyml-rsp-{os.getpid()}"
    state = tmp_path_factory.mktemp("proxied-state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYML_GATEWAY_STATE_DIR", str(state))
        gateway = start_gateway(
            registry_dir=pyml_home / "registry",
            gateway_id=gateway_id,
            docker_host=f"unix://{proxy.path}",
        )
    try:
        with Client(gateway.target, timeout=60) as client:
            client.deploy(packaged_cancer.name)
            client.deploy(packaged_tensor.name)
        yield gateway, gateway_id
    finally:
        if not proxy.path.exists():
            proxy.start()  # a failed test may have left Docker away: let the gateway clean up
        gateway.stop()
        remove_labelled(gateway_id)
        shutil.rmtree(f"/tmp/pyml-gw-{gateway_id}", ignore_errors=True)


def tensor_bystander(client: Client, tensor_home: Path) -> Bystander:
    """A client of the tensor model (not the one under test), its answers as a DataFrame."""
    tensors = load_validation(tensor_home, "tensors").input

    def predict() -> pd.DataFrame:
        answer = client.predict(TENSOR, tensors, timeout=20)
        # One row: each tensor's dtype, shape and exact bytes (tensors differ in shape).
        return pd.DataFrame(
            {k: [f"{v.dtype}{v.shape}:{v.tobytes().hex()}"] for k, v in sorted(answer.items())}
        )

    return Bystander(predict, predict(), pause=0.1, max_calls=2000)


def test_docker_engine_restart_does_not_fail_deployments(
    proxied_gateway: tuple[GatewayProcess, str],
    proxy: DockerProxy,
    tensor_home: Path,
    cancer_rows: pd.DataFrame,
) -> None:
    gateway, gateway_id = proxied_gateway
    rows = cancer_rows.head(3)
    with Client(gateway.target, timeout=30) as client:
        expected = client.predict(CANCER, rows)
        [container] = labelled(gateway_id, CANCER)
        with tensor_bystander(client, tensor_home) as bystander:
            proxy.stop()
            time.sleep(OUTAGE_SECONDS)  # Docker is away: running models keep serving
            pd.testing.assert_frame_equal(client.predict(CANCER, rows), expected)
            proxy.start()
            time.sleep(2)  # the gateway watches its containers again
        bystander.assert_served()
        info = client.deployment(CANCER)
        assert (info.state, info.restarts) == ("READY", 0), info
        assert client.deployment(TENSOR).state == "READY"
        assert labelled(gateway_id, CANCER) == [container]
        pd.testing.assert_frame_equal(client.predict(CANCER, rows), expected)


def test_kill_during_first_load_is_retried(
    proxied_gateway: tuple[GatewayProcess, str],
    tensor_home: Path,
    cancer_rows: pd.DataFrame,
) -> None:
    gateway, gateway_id = proxied_gateway
    engine = docker.from_env()
    with Client(gateway.target, timeout=30) as client:
        serving = set(labelled(gateway_id, CANCER))
        outcome: list[object] = []

        def redeploy() -> None:
            try:
                outcome.append(client.deploy(CANCER, timeout=120))
            except Exception as exc:  # reported by the assertion below
                outcome.append(exc)

        with tensor_bystander(client, tensor_home) as bystander:
            deploying = threading.Thread(target=redeploy, daemon=True)
            deploying.start()
            # The replacement's first container: killed as soon as it runs, while it loads.
            await_true(lambda: set(labelled(gateway_id, CANCER)) - serving != set(), 60, "started")
            [fresh] = set(labelled(gateway_id, CANCER)) - serving
            await_true(lambda: engine.containers.get(fresh).status == "running", 30, "running")
            assert deploying.is_alive(), "the model must still be loading when it is killed"
            engine.containers.get(fresh).kill()
            deploying.join(120)
        bystander.assert_served()
        [info] = outcome
        assert getattr(info, "state", None) == "READY", info
        await_deployment(client, CANCER, lambda d: d.state == "READY" and d.model_version == 1)
        assert fresh not in labelled(gateway_id, CANCER)
        assert len(client.predict(CANCER, cancer_rows.head(3))) == 3
