"""CLI file I/O and client argument checks (no gateway needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pyml._internal.files import read_input, write_output
from pyml._internal.payloads import kind_of
from pyml.client import Client, Resources, _PredictRequest, _serialize_predict, parse_memory
from pyml.v1 import payload_pb2, prediction_pb2


def test_inputs_are_read_by_suffix(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2]})
    frame.to_parquet(tmp_path / "in.parquet")
    frame.to_csv(tmp_path / "in.csv", index=False)
    np.savez(tmp_path / "in.npz", x=np.ones((2, 2)))

    assert read_input(tmp_path / "in.parquet").equals(frame)  # type: ignore[union-attr]
    assert read_input(tmp_path / "in.csv").equals(frame)  # type: ignore[union-attr]
    tensors = read_input(tmp_path / "in.npz")
    assert isinstance(tensors, dict) and tensors["x"].shape == (2, 2)
    with pytest.raises(ValueError, match=r"\.json"):
        read_input(tmp_path / "in.json")


def test_outputs_are_written_by_kind(tmp_path: Path) -> None:
    write_output(pd.DataFrame({"y": [1.0]}), tmp_path / "out.parquet")
    write_output({"y": np.zeros(2)}, tmp_path / "out.npz")

    assert pd.read_parquet(tmp_path / "out.parquet")["y"].tolist() == [1.0]
    assert np.load(tmp_path / "out.npz")["y"].shape == (2,)


def test_payload_kind_follows_the_value() -> None:
    assert kind_of(pd.DataFrame()) == "dataframe"
    assert kind_of({"x": np.ones(1)}) == "tensors"
    with pytest.raises(TypeError, match="list"):
        kind_of([1, 2])  # type: ignore[arg-type]


def test_deploy_refuses_a_missing_home_folder(tmp_path: Path) -> None:
    with Client("127.0.0.1:1") as client, pytest.raises(ValueError, match="registry"):
        client.deploy(tmp_path / "missing_home")


def test_deploy_reads_registered_refs_and_refuses_bad_ones(tmp_path: Path) -> None:
    newest = Client._deploy_request("breast_cancer_lr", None, 0)
    assert (newest.model_name, newest.model_version, newest.home_path) == (
        "breast_cancer_lr",
        0,
        "",
    )
    exact = Client._deploy_request("breast_cancer_lr:3", None, 0)
    assert (exact.model_name, exact.model_version) == ("breast_cancer_lr", 3)
    with pytest.raises(ValueError, match="nor a model home folder"):
        Client._deploy_request("bad name:x", None, 0)
    home = Client._deploy_request(str(tmp_path), "m", 0)  # an existing folder is a home
    assert (home.model_name, home.home_path) == ("m", str(tmp_path.resolve()))


def test_a_name_means_the_registry_even_beside_a_folder_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: run next to a folder named like the model, a name used to serve the folder
    (even a version whose packaging failed); a name now always means the registry."""
    (tmp_path / "breast_cancer_lr").mkdir()
    monkeypatch.chdir(tmp_path)
    by_name = Client._deploy_request("breast_cancer_lr", None, 0)
    assert (by_name.model_name, by_name.home_path) == ("breast_cancer_lr", "")
    by_path = Client._deploy_request("breast_cancer_lr/", None, 0)
    assert by_path.home_path == str((tmp_path / "breast_cancer_lr").resolve())
    by_path_object = Client._deploy_request(Path("breast_cancer_lr"), None, 0)
    assert by_path_object.home_path == by_path.home_path


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (1024, 1024),
        ("512m", 512 * 2**20),
        ("1g", 2**30),
        ("256MiB", 256 * 2**20),
        ("1.5G", 3 * 2**29),
    ],
)
def test_memory_sizes_are_parsed_in_binary_units(size: int | str, expected: int) -> None:
    assert parse_memory(size) == expected


def test_resources_refuse_what_they_cannot_mean() -> None:
    with pytest.raises(ValueError, match="512 parsecs"):
        parse_memory("512 parsecs")
    with pytest.raises(ValueError, match="unknown resources"):
        Resources.of({"gpus": 1})
    wire = Resources.of({"memory": "256m", "cpus": 1}).to_wire()
    assert (wire.memory_bytes, wire.cpus, wire.pids) == (256 * 2**20, 1.0, 0)


@pytest.mark.parametrize("size", [0, 1, 127, 128, 16_383, 16_384, 2_097_152])
@pytest.mark.parametrize("kind", [0, 1, 2, 300])
@pytest.mark.parametrize("version", [None, 0, 7, 2**40])
def test_predict_requests_serialized_apart_parse_as_the_message(
    size: int, kind: int, version: int | None
) -> None:
    arrow_ipc = bytes(range(256)) * (size // 256) + bytes(size % 256)
    header = prediction_pb2.PredictRequest(model_name="m", request_id="r-1")
    if version is not None:
        header.model_version = version
    wire = _serialize_predict(_PredictRequest(header, kind, arrow_ipc))
    expected = prediction_pb2.PredictRequest()
    expected.CopyFrom(header)
    expected.payload.CopyFrom(payload_pb2.Payload(kind=kind, arrow_ipc=arrow_ipc))  # type: ignore[arg-type]
    parsed = prediction_pb2.PredictRequest.FromString(wire)
    assert parsed == expected
    assert parsed.HasField("payload")
    assert parsed.HasField("model_version") == (version is not None)
    # The same bytes a protobuf serializer writes, but for the fields' order.
    assert len(wire) == expected.ByteSize()
