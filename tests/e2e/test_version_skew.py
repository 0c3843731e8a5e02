"""Version skew, end to end: a model image whose runtime is "another PyML" (sidecar protocol 2,
PyML 9.9.0: homes/skewed/setup.sh rewrites the installed runtime at image build), built by the
real image builder and deployed as a real container to a real gateway. The deploy fails for
good with one message naming both sides and the fix, no container of it is left, and another
model of the same gateway keeps serving."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pandas as pd
import pytest

import pyml
import pyml_runtime
from pyml._internal.gateway_process import GatewayProcess, gateway_jar, start_gateway
from pyml.client import Client
from pyml.model import Model
from pyml.version import ModelVersion
from tests.cli import run_pyml
from tests.conftest import TEST_HOMES

GATEWAY_LABEL = "io.pyml.gateway"
SKEWED = "skew-newer-runtime"
STEADY = "skew-steady"
ROWS = pd.DataFrame({"x": [1.0, 2.0, 3.0]})


@pytest.fixture(scope="module")
def gateway_id() -> str:
    return f"pyml-skew-{os.getpid()}"


@pytest.fixture(scope="module")
def packaged(
    pyml_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, ModelVersion]]:
    """The skewed home and the same model without its setup.sh (a runtime of this PyML)."""
    root = tmp_path_factory.mktemp("skew-homes")
    skewed = Path(shutil.copytree(TEST_HOMES / "skewed", root / "skewed"))
    steady = Path(shutil.copytree(skewed, root / "steady"))
    (steady / "setup.sh").unlink()
    versions: dict[str, ModelVersion] = {}
    try:
        for name, home in ((SKEWED, skewed), (STEADY, steady)):
            pyml.save_validation(home, ROWS)
            versions[name] = Model.from_home(home).package(name=name, progress=False)
        yield versions
    finally:
        for version in versions.values():
            tag = version.image.get("tag")
            if tag:
                docker.from_env().images.remove(tag, force=True, noprune=False)


def labelled(gateway_id: str, model: str) -> list[str]:
    """The names of this gateway's containers of `model`."""
    labels = [f"{GATEWAY_LABEL}={gateway_id}", f"io.pyml.model.name={model}"]
    containers = docker.from_env().containers.list(all=True, filters={"label": labels})
    return [container.name for container in containers]


@pytest.fixture(scope="module")
def gateway(
    pyml_home: Path, gateway_id: str, packaged: dict[str, ModelVersion]
) -> Iterator[GatewayProcess]:
    # Short: Unix socket paths are limited to about 107 bytes.
    work = Path(tempfile.mkdtemp(prefix="pyml-skew-", dir="/tmp"))
    process = start_gateway(
        ["--work-dir", str(work), "--deploy-timeout-ms", "90000"],
        registry_dir=pyml_home / "registry",
        gateway_id=gateway_id,
    )
    try:
        yield process
    finally:
        process.stop()
        engine = docker.from_env()
        left = engine.containers.list(all=True, filters={"label": f"{GATEWAY_LABEL}={gateway_id}"})
        for container in left:  # clean up first, then fail: never leak on a red run
            container.remove(force=True)
        shutil.rmtree(work, ignore_errors=True)
        assert not left, f"containers left by the gateway: {[c.name for c in left]}"


def gateway_version() -> str:
    """What the jar says it is: `pyml-gateway <version> (sidecar protocol <n>)`."""
    result = subprocess.run(
        ["java", "-jar", str(gateway_jar()), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    match = re.fullmatch(r"pyml-gateway (\S+) \(sidecar protocol 1\)\n", result.stdout)
    assert match is not None, result.stdout
    return match[1]


def test_the_gateway_jar_says_its_version_and_protocol() -> None:
    version = gateway_version()
    assert version != "unknown", "the jar's manifest carries the Maven project version"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", version), version


def test_a_model_image_of_another_protocol_fails_its_deploy_with_the_fix(
    gateway: GatewayProcess, gateway_id: str, packaged: dict[str, ModelVersion]
) -> None:
    with Client(gateway.target, timeout=60) as client:
        packaged[STEADY].deploy(gateway=gateway.target, progress=False)
        assert client.predict(STEADY, ROWS)["y"].tolist() == [2.0, 4.0, 6.0]

        result = run_pyml("deploy", SKEWED, "--gateway", gateway.target)

        assert result.returncode == 1, result.stdout + result.stderr
        version = packaged[SKEWED].version
        ours = gateway_version()
        message = (
            f"model '{SKEWED}' version {version} cannot be served by this gateway: its runtime "
            f"is PyML 9.9.0 (sidecar protocol 2) and this gateway is PyML {ours} (sidecar "
            f"protocol 1). Package the model again with PyML {ours} (`pyml package`), or "
            "serve it with a gateway of PyML 9.9.0"
        )
        shown = " ".join(result.stdout.split())  # Rich may wrap the long line
        assert f"✗ deployment of '{SKEWED}' failed: {message}" in shown, shown

        # Permanent, like a bad image: FAILED with that reason, never restarted.
        info = client.deployment(SKEWED)
        assert (info.state, info.reason, info.restarts) == ("FAILED", message, 0)
        # Its container is removed in the background once it failed: a bounded wait.
        deadline = time.monotonic() + 30
        while labelled(gateway_id, SKEWED) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert labelled(gateway_id, SKEWED) == []

        assert client.predict(STEADY, ROWS)["y"].tolist() == [2.0, 4.0, 6.0]
        assert len(labelled(gateway_id, STEADY)) == 1
        client.undeploy(STEADY)


def test_an_image_says_which_runtime_it_carries(packaged: dict[str, ModelVersion]) -> None:
    """`pyml-runtime --version` in a model image: what the deploy's message will name."""

    def runtime_of(version: ModelVersion) -> str:
        out = docker.from_env().containers.run(
            version.image["tag"],
            ["--version"],
            entrypoint=["pyml-runtime"],
            remove=True,
            network_disabled=True,
        )
        return str(out.decode().strip())

    assert runtime_of(packaged[SKEWED]) == "pyml-runtime 9.9.0 (sidecar protocol 2)"
    assert (
        runtime_of(packaged[STEADY])
        == f"pyml-runtime {pyml_runtime.__version__} (sidecar protocol 1)"
    )
