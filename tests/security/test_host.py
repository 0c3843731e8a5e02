"""No path from a client or a model to code on the gateway's host (issue 12, findings 1, 4).

Two gateways for the module: `secure` has the defaults (no home deploys) and serves the
packaged examples as containers; `dev` allows home deploys from one folder only (the
development flag) and serves the cancer home as a process. Every attack runs while a
Bystander predicts on another model of the same gateway.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import docker
import grpc
import numpy as np
import pandas as pd
import pytest

import pyml
from pyml._internal.gateway_process import GatewayProcess, GatewayStartError, start_gateway
from pyml.client import Client, RemoteError
from pyml.v1 import admin_pb2, admin_pb2_grpc
from pyml.version import ModelVersion
from tests.security.bystander import Bystander

OFF = "home-folder deploys are off on this gateway (development only: --home-deploy-roots)"
OUTSIDE = "is not a folder under this gateway's home-deploy roots"

# Runs on import, i.e. the moment a runtime loads it: proof that host code ran.
PLANT = """
import pathlib
pathlib.Path({marker!r}).write_text("host code ran")
from pyml import DataFrameModel
class Planted(DataFrameModel):
    def __init__(self, home): pass
    def predict(self, df): return df
"""

# Reports what the runtime process sees on x == 42; otherwise plain (its validation data).
PROBE = """
import json, os, resource
import pandas as pd
from pyml import DataFrameModel

class Probe(DataFrameModel):
    def __init__(self, home: str):
        self.home = home

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        info = ""
        if (df["x"] == 42).any():
            info = json.dumps({
                "env": dict(os.environ), "uid": os.getuid(), "gid": os.getgid(),
                "groups": os.getgroups(), "home_writable": os.access(self.home, os.W_OK),
                "data_limit": resource.getrlimit(resource.RLIMIT_DATA)[0],
            })
        return pd.DataFrame({"y": df["x"] * 2, "info": [info] * len(df)})
"""


# What a model container tries against its socket folder, a host bind mount, on x == 1;
# on x == 5 it writes 8 MiB to its log. Validation rows (2, 3) do nothing of the sort.
WRITER = """
import os
import pandas as pd
from pyml import DataFrameModel

def attempt(action):
    try:
        action()
        return "done"
    except OSError as error:
        return type(error).__name__

def plant():
    with open("/run/pyml/model.py", "w") as f:
        f.write("import os")

def fill():
    with open("/run/pyml/fill", "wb") as f:
        for _ in range(200):  # 200 MiB, one MiB at a time
            f.write(b"x" * (1 << 20))

def replace_socket():
    os.rename("/run/pyml/model.sock", "/run/pyml/old.sock")

def remove_socket():
    os.unlink("/run/pyml/model.sock")

class Writer(DataFrameModel):
    def __init__(self, home):
        pass

    def predict(self, df):
        report = ""
        if (df["x"] == 1).any():
            report = ",".join(attempt(a) for a in (plant, fill, replace_socket, remove_socket))
        if (df["x"] == 5).any():
            line = "log flood " + "x" * 1000
            for _ in range(8 * 1024):
                print(line, flush=False)
        return pd.DataFrame({"y": df["x"] * 2, "report": [report] * len(df)})
"""
SECURE_ID = f"pyml-host-secure-{os.getpid()}"


@dataclass
class Served:
    gateway: GatewayProcess
    client: Client
    bystander_model: str
    rows: pd.DataFrame
    expected: pd.DataFrame
    registry: Path | None = None  # the gateway's own registry, when a test may tamper with it

    @contextmanager
    def bystander(self) -> Iterator[Bystander]:
        """A Bystander that, for a quick attack, also sees a few calls after it (bounded)."""
        with Bystander(
            lambda: self.client.predict(self.bystander_model, self.rows, timeout=30),
            self.expected,
        ) as bystander:
            yield bystander
            deadline = time.monotonic() + 10
            while bystander.report.calls < 5 and time.monotonic() < deadline:
                time.sleep(0.05)


def _serve(gateway: GatewayProcess, model: str | Path, rows: pd.DataFrame) -> Served:
    client = Client(gateway.target, timeout=60)
    info = client.deploy(model)
    expected = client.predict(info.model_name, rows)
    return Served(gateway, client, info.model_name, rows, expected)


@pytest.fixture(scope="module")
def packaged_writer(
    pyml_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModelVersion]:
    """A model that, asked to, writes next to its socket and floods its log (a container)."""
    home = tmp_path_factory.mktemp("writer")
    (home / "model.py").write_text(WRITER)
    pyml.save_validation(home, pd.DataFrame({"x": np.array([2.0, 3.0])}))
    version = pyml.Model.from_home(home).package(name="host_writer", progress=False)
    yield version
    docker.from_env().images.remove(version.image["tag"], force=True)


@pytest.fixture(scope="module")
def secure(
    pyml_home: Path,
    packaged_cancer: ModelVersion,
    packaged_tensor: ModelVersion,
    packaged_writer: ModelVersion,
    cancer_rows: pd.DataFrame,
) -> Iterator[Served]:
    """A gateway with default settings, the cancer version served from its image; its own
    copy of the session's registry, so a test may tamper with it."""
    work = Path(tempfile.mkdtemp(prefix="pyml-hs-", dir="/tmp"))
    registry = work / "registry"
    shutil.copytree(pyml_home / "registry", registry)
    gateway = start_gateway(
        ["--work-dir", str(work / "w")],
        registry_dir=registry,
        gateway_id=SECURE_ID,
    )
    try:
        served = _serve(gateway, packaged_cancer.name, cancer_rows.head(3))
        served.registry = registry
        yield served
        served.client.close()
    finally:
        gateway.stop()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def dev_root(cancer_home: Path) -> Iterator[Path]:
    """The one folder the dev gateway allows; its work dir lies inside it, on purpose."""
    root = Path(tempfile.mkdtemp(prefix="pyml-hd-", dir="/tmp"))
    root.chmod(0o711)  # a root gateway's runtime user (65534) passes through to its sockets
    shutil.copytree(cancer_home, root / "homes" / "cancer")
    probe = root / "homes" / "probe"
    probe.mkdir()
    (probe / "model.py").write_text(PROBE)
    pyml.save_validation(probe, pd.DataFrame({"x": np.array([1.0, 2.0, 3.0])}))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def dev(dev_root: Path, cancer_rows: pd.DataFrame) -> Iterator[Served]:
    """Home deploys allowed under dev_root (the development flag); a canary in its env."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYML_HOST_CANARY", "gateway-secret")
        gateway = start_gateway(
            ["--work-dir", str(dev_root / "w")],
            gateway_id=f"pyml-host-dev-{os.getpid()}",
            home_deploy_roots=[dev_root],
        )
    try:
        served = _serve(gateway, dev_root / "homes" / "cancer", cancer_rows.head(3))
        yield served
        served.client.close()
    finally:
        gateway.stop()


def _raw_deploy(target: str, home_path: str, name: str = "attack") -> grpc.RpcError:
    """A Deploy as any gRPC caller sends it (the SDK checks folders locally first)."""
    with grpc.insecure_channel(target) as channel:
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        request = admin_pb2.DeployRequest(model_name=name, home_path=home_path, wait=True)
        with pytest.raises(grpc.RpcError) as refused:
            admin.Deploy(request, timeout=30)
    return refused.value


def _planted_home(folder: Path, marker: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.py").write_text(PLANT.format(marker=str(marker)))
    return folder


def test_remote_home_deploy_is_refused_by_default(secure: Served, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    home = _planted_home(tmp_path / "home", marker)
    with secure.bystander() as bystander:
        for path in (home, tmp_path / "missing", Path("/etc"), Path("/root")):
            error = _raw_deploy(secure.gateway.target, str(path))
            assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error
            assert error.details() == OFF  # one answer, whatever the folder
        with pytest.raises(RemoteError) as sdk:
            secure.client.deploy(home, name="attack")
        assert sdk.value.details == OFF
    bystander.assert_served()
    assert not marker.exists(), "the home's model.py ran on the gateway's host"
    assert [d.model_name for d in secure.client.deployments()] == [secure.bystander_model]


def test_home_deploy_outside_roots_same_error_whether_folder_exists(
    dev: Served, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    existing = _planted_home(tmp_path / "home", marker)
    a_file = existing / "model.py"
    with dev.bystander() as bystander:
        answers = {}
        for path in (existing, tmp_path / "missing", a_file, Path("/etc"), Path("/root")):
            error = _raw_deploy(dev.gateway.target, str(path))
            assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error
            answers[str(path)] = error.details().replace(str(path), "<path>")
    bystander.assert_served()
    assert set(answers.values()) == {
        f"home folder '<path>' {OUTSIDE} (development only: --home-deploy-roots)"
    }, answers
    assert not marker.exists()


def test_home_deploy_never_from_work_dir(dev: Served, dev_root: Path) -> None:
    # What a model could plant through a writable socket folder: a home inside the work dir.
    work = dev_root / "w"
    marker = dev_root / "ran"
    planted = _planted_home(work / "planted", marker)
    link = dev_root / "homes" / "link"
    link.symlink_to(planted)
    try:
        with dev.bystander() as bystander:
            for path in (planted, link, work, dev_root):  # the last two hold the work dir
                error = _raw_deploy(dev.gateway.target, str(path))
                assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error
                assert OUTSIDE in error.details(), error.details()
        bystander.assert_served()
    finally:
        link.unlink()
        shutil.rmtree(planted)
    assert not marker.exists()


def test_process_runtime_gets_clean_env_and_unprivileged_user(dev: Served, dev_root: Path) -> None:
    home = dev_root / "homes" / "probe"
    with dev.bystander() as bystander:
        dev.client.deploy(home)
        out = dev.client.predict("probe", pd.DataFrame({"x": [42.0]}))
        dev.client.undeploy("probe")
    bystander.assert_served()
    seen = json.loads(out["info"][0])
    env = seen["env"]
    assert set(env) <= {
        "PATH",
        "LANG",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "HOME",
        "TMPDIR",
        "LC_CTYPE",
        "PYML_RUNTIME_WORKERS",  # how many runtime workers the gateway asked for
        "PYML_RUNTIME_CPU_OFFSET",  # from which CPU on its workers run on CPUs of their own
        # each worker's native thread pools: its share of the CPUs (the runtime sets them)
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "GRPC_EXPERIMENTS",  # the polling listener for its gRPC server (pyml_runtime.grpc_core)
    }, env
    assert "PYML_HOST_CANARY" not in env and "DOCKER_HOST" not in env
    assert not env["HOME"].startswith(str(Path.home())), env["HOME"]
    assert seen["data_limit"] == 1024 * 1024 * 1024, "the container memory limit, as RLIMIT_DATA"
    assert not seen["home_writable"], "the runtime's home is a read-only snapshot"
    if os.getuid() == 0:
        assert (seen["uid"], seen["gid"], seen["groups"]) == (65534, 65534, []), seen
    else:
        assert seen["uid"] == os.getuid()


CPUS = os.cpu_count() or 1  # the gateway's default maximum: every CPU it sees


@pytest.mark.parametrize(
    ("resources", "refused"),
    [
        # The finding's request: refused at its first field over a maximum.
        ({"memory": 16 * 1024**3, "cpus": 2, "pids": 1_000_000}, "memory_bytes 17179869184"),
        (
            {"memory": 16 * 1024**3},
            "memory_bytes 17179869184 is above this gateway's maximum "
            "of 4294967296 (--max-container-memory-bytes)",
        ),
        (
            {"cpus": CPUS + 1},
            f"cpus {float(CPUS + 1)} is above this gateway's maximum of "
            f"{float(CPUS)} (--max-container-cpus)",
        ),
        (
            {"pids": 1_000_000},
            "pids 1000000 is above this gateway's maximum of 1024 (--max-container-pids)",
        ),
    ],
)
def test_resource_overrides_above_the_maxima_are_refused(
    secure: Served, packaged_tensor: ModelVersion, resources: dict[str, object], refused: str
) -> None:
    with secure.bystander() as bystander, pytest.raises(RemoteError) as error:
        secure.client.deploy(packaged_tensor, resources=resources)
    bystander.assert_served()
    assert error.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details.startswith(f"model '{packaged_tensor.name}': resources.{refused}")
    assert [d.model_name for d in secure.client.deployments()] == [secure.bystander_model]


def test_swapped_image_id_is_refused(
    secure: Served, packaged_cancer: ModelVersion, packaged_tensor: ModelVersion
) -> None:
    # The tensor version's manifest now names the cancer image; its archive is untouched.
    assert secure.registry is not None
    registry = secure.registry
    manifest_file = (
        registry / "models" / packaged_tensor.name / "versions" / str(packaged_tensor.version)
    ) / "manifest.json"
    original = manifest_file.read_text()
    manifest = json.loads(original)
    manifest["image"]["id"] = packaged_cancer.image["id"]
    manifest_file.write_text(json.dumps(manifest))
    try:
        with secure.bystander() as bystander, pytest.raises(RemoteError) as refused:
            secure.client.deploy(packaged_tensor)
        bystander.assert_served()
    finally:
        manifest_file.write_text(original)
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
    details = refused.value.details
    assert details.startswith(
        f"image {packaged_cancer.image['id']} is not the image of model "
        f"'{packaged_tensor.name}' version {packaged_tensor.version} in the registry: "
    ), details
    assert (
        f"label io.pyml.model.name is '{packaged_cancer.name}' "
        f"(manifest: '{packaged_tensor.name}')" in details
    )
    assert "label io.pyml.model.sha256 is" in details
    assert [d.model_name for d in secure.client.deployments()] == [secure.bystander_model]


def _containers(model: str) -> list[docker.models.containers.Container]:
    labels = [f"io.pyml.gateway={SECURE_ID}", f"io.pyml.model.name={model}"]
    return list(docker.from_env().containers.list(filters={"label": labels}))


def test_model_cannot_write_to_socket_folder(secure: Served, packaged_writer: ModelVersion) -> None:
    with secure.bystander() as bystander:
        secure.client.deploy(packaged_writer)
        out = secure.client.predict(packaged_writer.name, pd.DataFrame({"x": [1.0]}))
        [container] = _containers(packaged_writer.name)
        [mount] = [m for m in container.attrs["Mounts"] if m["Destination"] == "/run/pyml"]
        left = sorted(p.name for p in Path(mount["Source"]).iterdir())
        secure.client.undeploy(packaged_writer.name)
    bystander.assert_served()
    assert out["report"][0] == ",".join(["PermissionError"] * 4), out
    workers = int(container.labels["io.pyml.runtime-workers"])
    sockets = ["model.sock", *(f"model-{i}.sock" for i in range(1, workers))]
    assert left == sorted(sockets), f"the socket folder holds {left}"


def test_container_log_is_size_capped(secure: Served, packaged_writer: ModelVersion) -> None:
    with secure.bystander() as bystander:
        secure.client.deploy(packaged_writer)
        secure.client.predict(packaged_writer.name, pd.DataFrame({"x": [5.0]}))
        [container] = _containers(packaged_writer.name)
        log_config = container.attrs["HostConfig"]["LogConfig"]
        log_file = Path(container.attrs["LogPath"])
        size = log_file.stat().st_size if log_file.exists() else 0
        secure.client.undeploy(packaged_writer.name)
    bystander.assert_served()
    assert log_config == {"Type": "json-file", "Config": {"max-file": "3", "max-size": "1m"}}
    # 8 MiB were printed; the current file stays under its cap (json-file wraps each line).
    assert size <= 1024 * 1024 + 64 * 1024, f"{log_file} is {size} bytes"


def test_a_gateway_without_identities_refuses_a_host_other_than_loopback(
    tmp_path: Path,
) -> None:
    """Secure by default (issue 14): with no identities, a reachable port is a full admin, so
    `--host 0.0.0.0` stops the start-up with one line saying why and what to do."""
    with pytest.raises(GatewayStartError) as refused:
        start_gateway(
            ["--work-dir", str(tmp_path / "w"), "--host", "0.0.0.0"],
            gateway_id=f"pyml-host-exposed-{os.getpid()}",
        )
    text = str(refused.value)
    assert "--host 0.0.0.0 is not a loopback address and no identities are configured" in text
    assert "--insecure-no-auth true" in text
