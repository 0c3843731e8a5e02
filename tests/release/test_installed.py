"""PyML as users install it (issue 17): `make dist`'s wheels in a virtualenv outside the
checkout run the README's notebook flow (validate, package, gateway, deploy, predict, offline,
undeploy), and `pyml doctor` there names a missing Docker or Java.

The virtualenv is made once for the module (about 20 s from pip's cache); nothing of the
checkout is on its path: the flow runs from a folder outside it, with PYTHONPATH unset.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyml._internal.gateway_process import GatewayProcess, watch_gateway
from tests.sdk.test_doctor import line_of

REPO = Path(__file__).resolve().parents[2]
FLOW = Path(__file__).with_name("notebook_flow.py")
GATEWAY_ID = f"dist-{os.getpid()}"
PIP_SECONDS = 900


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "dist.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.fixture(scope="module")
def venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with PyML installed from the wheels, as `pip install` does."""
    root = tmp_path_factory.mktemp("venv") / "env"
    python = Path(getattr(sys, "_base_executable", sys.executable))
    subprocess.run([str(python), "-m", "venv", str(root)], check=True, timeout=120)
    [wheel] = dist.glob("pyml-*.whl")
    # --no-compile: pip byte-compiles every module it installs, pyspark's thousands too (half
    # of the install's 33 s here); Python compiles what the flow imports when it imports it.
    argv = [str(root / "bin" / "pip"), "install", "--quiet", "--no-compile"]
    argv += ["--find-links", str(dist)]
    argv += [f"{wheel}[all]", "scikit-learn", "joblib"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=PIP_SECONDS, env=_env())
    assert done.returncode == 0, done.stderr[-3000:]
    return root


def _env(**extra: str) -> dict[str, str]:
    """The caller's environment without anything that would point into the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.pop("PYML_GATEWAY_JAR", None)
    env.pop("PYML_WHEEL", None)
    env.pop("PYML_TOKEN", None)
    return {**env, "COLUMNS": "300", **extra}


def _pyml(
    venv: Path, *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The virtualenv's `pyml` command, as a person runs it."""
    return subprocess.run(
        [str(venv / "bin" / "pyml"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture()
def installed_gateway(venv: Path, tmp_path: Path, base_image: str) -> Iterator[GatewayProcess]:
    """`pyml gateway` of the virtualenv: the jar of the pyml-gateway wheel, its own PYML_HOME."""
    argv = [str(venv / "bin" / "pyml"), "gateway", "--gateway-id", GATEWAY_ID]
    for flag in ("--grpc-port", "--thrift-port", "--oip-port", "--http-port"):
        argv += [flag, "0"]
    process = subprocess.Popen(
        argv,
        cwd=tmp_path,
        env=_env(PYML_HOME=str(tmp_path / "home")),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    gateway = watch_gateway(process, startup_timeout=90)
    try:
        yield gateway
    finally:
        gateway.stop()


def test_the_readme_notebook_flow_runs_on_the_installed_wheels(
    venv: Path, installed_gateway: GatewayProcess, tmp_path: Path, docker_engine: Any
) -> None:
    work = tmp_path / "notebook"
    work.mkdir()
    env = _env(PYML_HOME=str(tmp_path / "home"))
    done = subprocess.run(
        [str(venv / "bin" / "python"), str(FLOW), str(work), installed_gateway.target],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    try:
        # The flow ran the installed PyML, and the image got that PyML packed again from the
        # installed files, not built from a source tree.
        assert result["pyml_file"].startswith(str(venv)), result
        assert list((tmp_path / "home" / "cache" / "wheels").glob("installed-*/pyml-*.whl"))
        assert result["online_rows"] == 20 and result["offline_rows"] == 100

        undeploy = _pyml(
            venv, "undeploy", "dist_cancer", env={**env, "PYML_GATEWAY": installed_gateway.target}
        )
        assert undeploy.returncode == 0, undeploy.stdout + undeploy.stderr
        installed_gateway.stop()
        left = docker_engine.containers.list(
            all=True, filters={"label": f"io.pyml.gateway={GATEWAY_ID}"}
        )
        assert left == []
    finally:
        docker_engine.images.remove(result["image"], force=True)


def test_doctor_in_the_installed_environment_names_a_missing_docker_and_java(
    venv: Path, tmp_path: Path
) -> None:
    with socket.socket(socket.AF_UNIX) as placeholder:  # a socket path nothing listens on
        dead = tmp_path / "docker.sock"
        placeholder.bind(str(dead))
    env = _env(DOCKER_HOST=f"unix://{dead}", PATH=str(venv / "bin"))
    done = _pyml(venv, "doctor", env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert line_of(done.stdout, "gateway jar").startswith(
        f"gateway jar ✓ 0.1.0 ({venv}/lib/python3.11/site-packages/pyml_gateway/pyml-gateway.jar"
    )
    assert line_of(done.stdout, "Java").startswith("Java ✗ no java on PATH")
    assert line_of(done.stdout, "Docker engine").startswith("Docker engine ✗ no Docker engine")
    assert done.stdout.strip().splitlines()[-1] == "missing: Java, Docker engine", done.stdout

    gateway = _pyml(venv, "gateway", env=env, cwd=tmp_path)
    assert gateway.returncode == 1
    assert gateway.stdout.splitlines()[:2] == [
        "✗ no java on PATH: the gateway jar runs on Java 17 or newer",
        "  hint: apt-get install openjdk-17-jre-headless (or any JDK 17+ on PATH), or run the "
        "gateway image with Docker: pyml gateway --container",
    ]


def test_make_dist_gives_the_same_bytes_again(dist: Path, tmp_path: Path) -> None:
    again = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "dist.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "SHA256SUMS").read_text() == (dist / "SHA256SUMS").read_text()
    names = sorted(line.split()[1] for line in (dist / "SHA256SUMS").read_text().splitlines())
    assert names == [
        "pyml-0.1.0-py3-none-any.whl",
        "pyml-gateway-0.1.0.jar",
        "pyml_gateway-0.1.0-py3-none-any.whl",
    ]


def test_the_image_gets_the_installed_pyml_file_for_file(
    venv: Path, dist: Path, tmp_path: Path
) -> None:
    """The wheel packed from the installed files holds what the released wheel held; a file
    edited after the install is refused (the image would not run the PyML that was installed)."""
    packed = _packed_wheel(venv, tmp_path / "cache")
    assert packed.returncode == 0, packed.stderr
    [released] = dist.glob("pyml-*.whl")
    assert _contents(Path(packed.stdout.strip())) == _contents(released)

    [edited] = venv.glob("lib/python3.*/site-packages/pyml_runtime/errors.py")
    original = edited.read_bytes()
    try:
        edited.write_bytes(original + b"# a local edit\n")
        refused = _packed_wheel(venv, tmp_path / "cache-2")
    finally:
        edited.write_bytes(original)
    assert refused.returncode != 0
    assert "pyml_runtime/errors.py differs from what pip installed" in refused.stderr


def _packed_wheel(venv: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    script = (
        "import sys\nfrom pathlib import Path\nfrom pyml_launcher.materials import pyml_wheel\n"
        "print(pyml_wheel(Path(sys.argv[1])))\n"
    )
    return subprocess.run(
        [str(venv / "bin" / "python"), "-c", script, str(cache)],
        cwd=cache.parent,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _contents(wheel: Path) -> dict[str, bytes]:
    """Every file of a wheel but RECORD (its lines' order is the packer's)."""
    with zipfile.ZipFile(wheel) as archive:
        return {
            name: archive.read(name)
            for name in archive.namelist()
            if not name.endswith(".dist-info/RECORD")
        }


def test_the_installed_gateway_jar_builds_the_gateway_image(
    venv: Path, tmp_path: Path, base_image: str
) -> None:
    """`pyml images gateway` once needed a checkout's jar; the installed one serves."""
    done = _pyml(
        venv, "images", "gateway", env=_env(PYML_HOME=str(tmp_path / "home")), cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pyml/gateway:" in done.stdout, done.stdout
