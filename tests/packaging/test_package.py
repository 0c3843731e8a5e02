"""model.package(): an immutable registered version whose image reproduces the validation data."""

from __future__ import annotations

import filecmp
import importlib.metadata as metadata
import shutil
from pathlib import Path

import docker
import grpc
import pandas as pd
import pytest

from pyml.model import Model
from pyml.registry import Registry, TamperedArtifact
from pyml.v1 import payload_pb2, runtime_pb2_grpc
from pyml.version import ModelVersion, PackagingFailed
from pyml_launcher.local import run_model_container
from pyml_runtime import codec
from pyml_runtime.errors import PymlError
from pyml_runtime.validation import compare_dataframes, compare_tensors, load_validation
from tests.runtime.test_layering import IMPORT_RUNTIME_WITHOUT_SDK

KINDS = {
    "dataframe": payload_pb2.PAYLOAD_KIND_DATAFRAME,
    "tensors": payload_pb2.PAYLOAD_KIND_TENSORS,
}


def predict_through_socket(socket_path: Path, kind: str, arrow_ipc: bytes) -> bytes:
    with grpc.insecure_channel(f"unix:{socket_path}") as channel:
        stub = runtime_pb2_grpc.ModelRuntimeStub(channel)  # type: ignore[no-untyped-call]
        reply = stub.Predict(payload_pb2.Payload(kind=KINDS[kind], arrow_ipc=arrow_ipc), timeout=60)
    return bytes(reply.arrow_ipc)


def test_a_packaged_version_is_registered_with_its_image(packaged_cancer: ModelVersion) -> None:
    record = Registry.default().get("breast_cancer_lr")

    assert record.version == packaged_cancer.version == 1
    assert record.status == "ready"
    assert record.kind == "dataframe"
    assert "mean radius" in record.input_schema
    assert "malignant_proba" in record.output_schema
    image = docker.from_env().images.get(record.image["tag"])
    assert image.id == record.image["id"]
    assert image.labels["io.pyml.model.name"] == "breast_cancer_lr"
    assert image.labels["io.pyml.model.version"] == "1"
    assert image.labels["io.pyml.model.sha256"] == record.archive_sha256
    # Issue 15: the model's own requirements, pinned to the packaging environment's versions
    # (requirements.txt says "scikit-learn>=1.9" and "joblib"), installed so in the image.
    pins = {"scikit-learn": metadata.version("scikit-learn"), "joblib": metadata.version("joblib")}
    assert record.image["requirements"] == pins
    installed = docker.from_env().containers.run(
        record.image["tag"],
        ["-c", "import joblib, sklearn; print(sklearn.__version__, joblib.__version__)"],
        entrypoint="python3",
        network_mode="none",
        remove=True,
    )
    assert installed.decode().split() == [pins["scikit-learn"], pins["joblib"]]


@pytest.mark.parametrize("which", ["packaged_cancer", "packaged_tensor"])
def test_the_image_answers_its_validation_data_through_the_socket(
    which: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    version: ModelVersion = request.getfixturevalue(which)
    home = version.download(tmp_path / "home")
    kind = version.record.kind
    data = load_validation(home, kind)
    sockets = Path(tmp_path / "run")

    with run_model_container(version.image["tag"], sockets) as container:
        container.wait_ready(timeout=60)
        if kind == "dataframe":
            sent = codec.encode_dataframe(data.input)
            got = codec.decode_dataframe(predict_through_socket(container.socket_path, kind, sent))
            report = compare_dataframes(got, data.expected, rtol=0, atol=0)
        else:
            sent = codec.encode_tensors(data.input)
            got = codec.decode_tensors(predict_through_socket(container.socket_path, kind, sent))
            report = compare_tensors(got, data.expected, rtol=0, atol=0)

    assert report.passed, report.diff


def test_the_runtime_in_the_image_imports_nothing_from_the_sdk(
    packaged_tensor: ModelVersion,
) -> None:
    # The image's model.py imports `pyml` (its build validated through it); the runtime alone
    # must not need it.
    output = docker.from_env().containers.run(
        packaged_tensor.image["tag"],
        entrypoint=["python", "-c", IMPORT_RUNTIME_WITHOUT_SDK],
        network_disabled=True,
        remove=True,
    )

    assert b"modules" in output


def test_another_user_downloads_the_exact_home(
    packaged_tensor: ModelVersion, tensor_home: Path, tmp_path: Path
) -> None:
    copy = Model.from_registry("softmax_tensor", packaged_tensor.version).download(tmp_path / "h")

    comparison = filecmp.dircmp(tensor_home, copy)
    assert not comparison.left_only and not comparison.right_only and not comparison.diff_files
    assert Model.from_home(copy).validate().passed


def test_a_changed_byte_is_refused(packaged_tensor: ModelVersion, pyml_home: Path) -> None:
    archives = list(pyml_home.rglob("softmax_tensor/versions/*/home.tar.gz"))
    archive = archives[0]
    original = archive.read_bytes()
    try:
        archive.write_bytes(original[:-10] + bytes([original[-10] ^ 1]) + original[-9:])
        with pytest.raises(TamperedArtifact):
            Registry.default().verify(packaged_tensor.ref)
    finally:
        archive.write_bytes(original)


def test_a_failed_build_leaves_a_failed_version_and_no_image(
    packaged_tensor: ModelVersion, tmp_path: Path
) -> None:
    home = shutil.copytree(
        Model.from_registry("softmax_tensor").download(tmp_path / "h"), tmp_path / "softmax_broken"
    )
    (home / "setup.sh").write_text("echo about to fail\nexit 3\n")
    images_before = {image.id for image in docker.from_env().images.list()}

    with pytest.raises(PackagingFailed, match=r"setup\.sh"):
        Model.from_home(home).package("softmax_broken", progress=False)

    registry = Registry.default()
    versions = registry.versions("softmax_broken")
    assert [(v.version, v.status) for v in versions] == [(1, "failed")]
    assert versions[0].failure is not None and "setup.sh" in versions[0].failure.reason
    tagged = {tag for image in docker.from_env().images.list() for tag in image.tags}
    assert not any("/softmax_broken:" in tag for tag in tagged)
    assert {image.id for image in docker.from_env().images.list()} <= images_before


def test_a_home_with_two_model_classes_registers_nothing(pyml_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "twins"
    home.mkdir()
    (home / "model.py").write_text(
        "from pyml import DataFrameModel\n\n"
        "class A(DataFrameModel):\n    def __init__(self, home): pass\n"
        "    def predict(self, df): return df\n\n"
        "class B(DataFrameModel):\n    def __init__(self, home): pass\n"
        "    def predict(self, df): return df\n"
    )

    with pytest.raises(PymlError, match=r"\bA\b.*\bB\b"):
        Model.from_home(home).package("twins")

    assert "twins" not in Registry.default().names()


def test_no_validation_data_is_refused_unless_allowed(
    pyml_home: Path, faulty_home: Path, tmp_path: Path
) -> None:
    home = shutil.copytree(faulty_home, tmp_path / "unvalidated")
    shutil.rmtree(home / "validation")

    with pytest.raises(PymlError, match="validation"):
        Model.from_home(home).package("unvalidated", progress=False)
    assert "unvalidated" not in Registry.default().names()

    version = Model.from_home(home).package("unvalidated", allow_no_validation=True, progress=False)
    try:
        assert version.record.status == "ready"
        assert version.record.validation_data is False
        with run_model_container(version.image["tag"], tmp_path / "run") as container:
            container.wait_ready(timeout=60)
            sent = codec.encode_dataframe(pd.DataFrame({"x": [1.5]}))
            got = predict_through_socket(container.socket_path, "dataframe", sent)
        assert codec.decode_dataframe(got)["y"].tolist() == [3.0]
    finally:
        docker.from_env().images.remove(version.image["tag"])
