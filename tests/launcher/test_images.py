"""The example images, built for real and run the way the gateway runs them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pandas as pd
import pytest

from pyml.v1 import payload_pb2, runtime_pb2_grpc
from pyml_launcher.base_image import DEFAULT_BASE_TAG, resolve_base_image
from pyml_launcher.container_policy import default_runtime_limits
from pyml_launcher.context import image_tag
from pyml_launcher.image import BuiltImage
from pyml_launcher.local import ModelContainer, run_model_container
from pyml_runtime.codec import decode_dataframe, decode_tensors, encode_dataframe, encode_tensors
from pyml_runtime.validation import compare_dataframes, compare_tensors, load_validation
from tests.hardening import assert_hardened
from tests.launcher.conftest import CANCER, FAKE_SHA, TENSOR

RTOL, ATOL = 1e-6, 1e-9
_STEP = re.compile(r"^Step \d+/\d+ : (.*)$")


def start(image: BuiltImage, socket_dir: Path, labels: dict[str, str]) -> ModelContainer:
    container = run_model_container(image.tag, socket_dir, labels=labels)
    try:
        container.wait_ready(timeout=60)
    except BaseException:
        container.stop()
        raise
    return container


def predict(container: ModelContainer, kind: payload_pb2.PayloadKind, data: bytes) -> bytes:
    with grpc.insecure_channel(f"unix:{container.socket_path}") as channel:
        stub = runtime_pb2_grpc.ModelRuntimeStub(channel)  # type: ignore[no-untyped-call]
        reply = stub.Predict(payload_pb2.Payload(kind=kind, arrow_ipc=data), timeout=30)
    return bytes(reply.arrow_ipc)


def test_dataframe_image_answers_its_validation_data(
    cancer_image: BuiltImage,
    cancer_home: Path,
    socket_dir: Path,
    session_containers: dict[str, str],
) -> None:
    data = load_validation(cancer_home, "dataframe")
    assert isinstance(data.input, pd.DataFrame) and isinstance(data.expected, pd.DataFrame)
    with start(cancer_image, socket_dir, session_containers) as container:
        answer = predict(
            container, payload_pb2.PAYLOAD_KIND_DATAFRAME, encode_dataframe(data.input)
        )
    report = compare_dataframes(decode_dataframe(answer), data.expected, RTOL, ATOL)
    assert report.passed, report.diff


def test_tensor_image_answers_its_validation_data(
    tensor_image: BuiltImage,
    tensor_home: Path,
    socket_dir: Path,
    session_containers: dict[str, str],
) -> None:
    data = load_validation(tensor_home, "tensors")
    assert isinstance(data.input, dict) and isinstance(data.expected, dict)
    with start(tensor_image, socket_dir, session_containers) as container:
        answer = predict(container, payload_pb2.PAYLOAD_KIND_TENSORS, encode_tensors(data.input))
    report = compare_tensors(decode_tensors(answer), data.expected, RTOL, ATOL)
    assert report.passed, report.diff


def test_image_carries_the_model_labels_and_entrypoint(
    docker_engine: Any, cancer_image: BuiltImage
) -> None:
    config = docker_engine.api.inspect_image(cancer_image.tag)["Config"]
    assert config["Labels"]["io.pyml.model.name"] == CANCER
    assert config["Labels"]["io.pyml.model.version"] == "1"
    assert config["Labels"]["io.pyml.model.sha256"] == FAKE_SHA
    assert config["User"] == "65534:65534"
    assert config["Entrypoint"][-2:] == ["--name", CANCER]
    assert cancer_image.tag == image_tag(CANCER, 1)
    assert cancer_image.image_id == docker_engine.api.inspect_image(cancer_image.tag)["Id"]


def test_container_runs_hardened(
    tensor_image: BuiltImage, socket_dir: Path, session_containers: dict[str, str]
) -> None:
    with start(tensor_image, socket_dir, session_containers) as model:
        container = model.container
        assert container.exec_run(["id", "-u"]).output.strip() == b"65534"
        denied = container.exec_run(["touch", "/opt/pyml/model/new-file"])
        assert denied.exit_code != 0 and b"Read-only file system" in denied.output
        assert container.exec_run(["touch", "/tmp/scratch"]).exit_code == 0
        assert_hardened(container.attrs, "runtime")
        host = container.attrs["HostConfig"]
        # The gateway's default limits (the same file), one CPU.
        assert (host["Memory"], host["PidsLimit"]) == default_runtime_limits() == (1024**3, 256)
        assert host["NanoCpus"] == 1_000_000_000
        assert container.labels["io.pyml.launcher"] == "1"
        assert f"pyml-runtime serving {TENSOR} on /run/pyml/model.sock" in model.logs()
    assert not socket_dir.joinpath("model.sock").exists()


def test_no_pyc_is_written_at_run_time(tensor_image: BuiltImage, docker_engine: Any) -> None:
    env = docker_engine.api.inspect_image(tensor_image.tag)["Config"]["Env"]
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert any(e.startswith("PATH=/opt/pyml/venv/bin:") for e in env)


def test_local_base_image_is_the_default_once_built(
    base_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYML_BASE_IMAGE", raising=False)
    assert base_image == DEFAULT_BASE_TAG
    assert resolve_base_image(None) == DEFAULT_BASE_TAG


def cached_steps(log: list[str]) -> dict[str, bool]:
    """{instruction: whether the builder took it from its cache}."""
    cached: dict[str, bool] = {}
    current = None
    for line in log:
        step = _STEP.match(line)
        if step:
            current = step[1]
            cached[current] = False
        elif current and line.strip() == "---> Using cache":
            cached[current] = True
    return cached


def test_changing_only_model_py_reuses_the_pip_layers(
    build: Callable[..., BuiltImage],
    cancer_image: BuiltImage,
    cancer_home: Path,
    home_copy: Callable[[Path], Path],
) -> None:
    home = home_copy(cancer_home)
    with (home / "model.py").open("a") as model:
        model.write("\n# retrained: same weights, new comment\n")
    rebuilt = build(home, CANCER, version=2)
    steps = cached_steps(rebuilt.log)
    pins = [s for s in steps if "-r /opt/pyml/build/constraints.txt" in s]
    requirements = [s for s in steps if "-r /opt/pyml/build/requirements.txt" in s]
    assert len(pins) == len(requirements) == 1
    assert steps[pins[0]] and steps[requirements[0]], "\n".join(rebuilt.log)
    assert not steps["COPY model/ /opt/pyml/model/"]
    assert rebuilt.image_id != cancer_image.image_id
