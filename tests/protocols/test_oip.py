"""The Open Inference Protocol front end, called by Triton's own `tritonclient[grpc]` (in its
own virtualenv, protobuf < 7): ServerReady, ModelMetadata and ModelInfer against both examples
give the gRPC path's answers exactly; bad tensors get INVALID_ARGUMENT naming the tensor."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pyml._internal.gateway_process import GatewayProcess
from pyml.client import Client

from .conftest import MAX_PAYLOAD_BYTES

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OIP_VENV = REPO / ".venv-oip"
REQUIREMENTS = HERE / "oip-requirements.txt"


@pytest.fixture(scope="session")
def oip_python() -> Path:
    """.venv-oip with the pinned tritonclient, made once (the pip cache makes it quick)."""
    python = OIP_VENV / "bin" / "python"
    stamp = OIP_VENV / ".requirements"
    wanted = REQUIREMENTS.read_text()
    if not python.exists() or not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run(["python3", "-m", "venv", str(OIP_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
            check=True,
            timeout=600,
        )
        stamp.write_text(wanted)
    return python


class Triton:
    """Runs a list of operations through tritonclient in .venv-oip; returns their results."""

    def __init__(self, python: Path, port: int, tmp: Path) -> None:
        self.python, self.port, self.tmp = python, port, tmp

    def run(
        self, ops: list[dict[str, Any]], arrays: dict[str, np.ndarray] | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
        ops_file, inputs, outputs = self.tmp / "ops.json", self.tmp / "in.npz", self.tmp / "out.npz"
        ops_file.write_text(json.dumps(ops))
        np.savez(inputs, **(arrays or {}))
        done = subprocess.run(
            [
                str(self.python),
                str(HERE / "oip_driver.py"),
                str(self.port),
                str(ops_file),
                str(inputs),
                str(outputs),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        results = [json.loads(line) for line in done.stdout.splitlines()]
        assert len(results) == len(ops), done.stdout
        with np.load(outputs, allow_pickle=False) as loaded:
            return results, dict(loaded)


@pytest.fixture()
def triton(
    oip_python: Path, protocol_gateway: GatewayProcess, grpc_client: Client, tmp_path: Path
) -> Iterator[Triton]:
    yield Triton(oip_python, protocol_gateway.oip_port, tmp_path)


def columns(rows: pd.DataFrame) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    names = {name: f"c{i}" for i, name in enumerate(rows.columns)}
    return names, {f"c{i}": rows[name].to_numpy() for i, name in enumerate(rows.columns)}


def test_ready_metadata_and_infer_equal_the_grpc_path(
    triton: Triton, grpc_client: Client, cancer_rows: pd.DataFrame
) -> None:
    rows = cancer_rows.sample(120, random_state=8).reset_index(drop=True)
    names, arrays = columns(rows)
    x = np.random.default_rng(9).normal(size=(15, 4)).astype(np.float32)
    arrays["x"] = x
    results, outputs = triton.run(
        [
            {"op": "server_live"},
            {"op": "server_ready"},
            {"op": "model_ready", "model": "breast_cancer_lr"},
            {"op": "model_ready", "model": "no_such_model"},
            {"op": "metadata", "model": "breast_cancer_lr"},
            {"op": "metadata", "model": "softmax_tensor"},
            {"op": "infer", "model": "breast_cancer_lr", "inputs": names},
            {"op": "infer", "model": "softmax_tensor", "inputs": {"x": "x"}},
            {
                "op": "infer_stub",
                "model": "softmax_tensor",
                "typed": True,
                "inputs": {"x": {"key": "x"}},
            },
            {"op": "config", "model": "softmax_tensor"},
        ],
        arrays,
    )
    assert results[0] == {"live": True}
    assert results[1] == {"ready": True}
    assert results[2] == {"ready": True}
    assert results[3] == {"ready": False}

    cancer_meta = results[4]
    assert [i["name"] for i in cancer_meta["inputs"]] == list(rows.columns)
    assert {i["datatype"] for i in cancer_meta["inputs"]} == {"FP64"}
    assert cancer_meta["inputs"][0]["shape"] == ["-1"]
    tensor_meta = results[5]
    assert tensor_meta["inputs"] == [{"name": "x", "datatype": "FP32", "shape": ["-1", "4"]}]
    assert {o["name"]: o["datatype"] for o in tensor_meta["outputs"]} == {
        "probabilities": "FP32",
        "label": "INT64",
        "rows": "INT64",
    }

    assert results[9] == {
        "name": "softmax_tensor",
        "inputs": [{"name": "x", "data_type": "TYPE_FP32", "dims": ["-1", "4"]}],
        "max_batch_size": 0,
    }

    reference = grpc_client.predict("breast_cancer_lr", rows)
    assert isinstance(reference, pd.DataFrame)
    assert results[6]["outputs"] == list(reference.columns)
    for name in reference.columns:
        np.testing.assert_array_equal(outputs[f"6/{name}"], reference[name].to_numpy())
        assert outputs[f"6/{name}"].dtype == reference[name].to_numpy().dtype

    tensors = grpc_client.predict("softmax_tensor", {"x": x})
    assert isinstance(tensors, dict)
    for index in (7, 8):
        for name, array in tensors.items():
            got = outputs[f"{index}/{name}"]
            assert got.dtype == array.dtype and got.shape == array.shape, (index, name)
            np.testing.assert_array_equal(got, array)


def test_bad_tensors_are_invalid_argument_naming_the_tensor(
    triton: Triton, grpc_client: Client, cancer_rows: pd.DataFrame
) -> None:
    names, arrays = columns(cancer_rows.head(3))
    arrays["x"] = np.ones((3, 4), dtype=np.float32)
    arrays["x64"] = np.ones((3, 4), dtype=np.float64)
    arrays["huge"] = np.ones((MAX_PAYLOAD_BYTES // 16 + 8192, 4), dtype=np.float32)
    wrong_name = dict(names)
    wrong_name["radius"] = wrong_name.pop("mean radius")
    results, outputs = triton.run(
        [
            {"op": "infer", "model": "no_such_model", "inputs": {"x": "x"}},
            {"op": "infer", "model": "softmax_tensor", "inputs": {"y": "x"}},
            {"op": "infer", "model": "softmax_tensor", "inputs": {"x": "x64"}},
            {"op": "infer", "model": "breast_cancer_lr", "inputs": wrong_name},
            {
                "op": "infer_stub",
                "model": "softmax_tensor",
                "inputs": {"x": {"key": "x", "bytes": 40}},
            },
            {
                "op": "infer_stub",
                "model": "softmax_tensor",
                "inputs": {"x": {"key": "x", "shape": [4, 4]}},
            },
            {
                "op": "infer_stub",
                "model": "softmax_tensor",
                "inputs": {"x": {"key": "x", "datatype": "FP16"}},
            },
            {
                "op": "infer",
                "model": "softmax_tensor",
                "inputs": {"x": "x"},
                "client_timeout": 0.000001,
            },
            {"op": "infer", "model": "softmax_tensor", "inputs": {"x": "x"}},
            {"op": "infer", "model": "softmax_tensor", "inputs": {"x": "huge"}},
            {"op": "infer", "model": "softmax_tensor", "inputs": {"x": "x"}},
        ],
        arrays,
    )
    # The same routing and words as over PyML's gRPC and Thrift APIs.
    assert results[0] == {"code": "NOT_FOUND", "message": "model 'no_such_model' is not deployed"}
    for index in range(1, 7):
        assert results[index].get("code") == "INVALID_ARGUMENT", (index, results[index])
    assert "input 'y'" in results[1]["message"] and "(expected: [x])" in results[1]["message"]
    assert "FP64 (expected: FP32)" in results[2]["message"]
    assert "'radius'" in results[3]["message"]
    assert "40 bytes" in results[4]["message"] and "48 bytes" in results[4]["message"]
    assert "'x'" in results[5]["message"]
    assert "FP16" in results[6]["message"]
    assert results[7]["code"] == "DEADLINE_EXCEEDED"  # the client gave up mid-call
    assert outputs["8/label"].shape == (3,)  # and the gateway kept serving
    assert results[9]["code"] == "RESOURCE_EXHAUSTED", results[9]  # over the size limit
    assert outputs["10/label"].shape == (3,)
