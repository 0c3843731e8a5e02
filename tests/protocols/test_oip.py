"""The Open Inference Protocol front end, called by Triton's own `tritonclient[grpc]` (in its
own virtualenv, protobuf < 7): ServerReady, ModelMetadata and ModelInfer against both examples
give the gRPC path's answers exactly; bad tensors get INVALID_ARGUMENT naming the tensor. A
DataFrame model's strings, categories and times travel as BYTES, and every type a client sends
goes through the runtime's one conversion rule (issue 15), over gRPC and V2 REST JSON."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pyml._internal.gateway_process import GatewayProcess
from pyml.client import Client
from pyml.model import Model
from tests.conversion_cases import wanted

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


TYPED = "typed_oip"  # its own name: test_conversion.py deploys the same home as "typed"


@pytest.fixture(scope="module")
def typed(grpc_client: Client, typed_home: Path) -> Iterator[pd.DataFrame]:
    """The conversion rule's test model, deployed; yields its own answer on `wanted()`."""
    grpc_client.deploy(typed_home, name=TYPED)
    yield Model.from_home(typed_home).predict(wanted())
    grpc_client.undeploy(TYPED)


def typed_rows() -> dict[str, np.ndarray]:
    """`wanted()`'s rows as a Triton client without pandas sends them: no column in its
    validated type; strings (a category, ISO-8601 times with offsets, str) as BYTES."""
    return {
        "count": np.array([4, 5, 6], dtype=np.int32),
        "score": np.array([1, 2, 3], dtype=np.int64),
        "city": np.array(["Lyon", "Rome", "Nice"]),  # 'Rome' is no category: missing
        "visits": np.array([7.0, np.nan, 9.0]),  # NaN: a missing Int64
        "seen": np.array([f"2024-05-01T{h}:00:00+02:00" for h in (12, 13, 14)]),
        "name": np.array(["x", "y", "z"]),
        "ok": np.array([False, True, False]),
    }


# The other casts of the conversion table that V2 datatypes can express (no nulls, no
# categories or times of their own): each replaces one column of `typed_rows()`.
OIP_CASTS: dict[str, tuple[str, np.ndarray]] = {
    "UINT8 for int64": ("count", np.array([4, 5, 6], dtype=np.uint8)),
    "whole FP64 for int64": ("count", np.array([4.0, 5.0, 6.0])),
    "INT32 for float64": ("score", np.array([1, 2, 3], dtype=np.int32)),
    "FP32 for float64": ("score", np.array([1.0, 2.0, 3.0], dtype=np.float32)),
    "ISO-8601 without an offset (UTC)": (
        "seen",
        np.array([f"2024-05-01 {h}:00:00" for h in (10, 11, 12)]),
    ),
}


def test_strings_and_every_cast_over_oip_give_the_models_own_answer(
    triton: Triton, typed: pd.DataFrame
) -> None:
    arrays = typed_rows()
    arrays["score_text"] = np.array(["1", "2", "3"])
    arrays["latin1"] = np.array([b"Lyon", b"Z\xfcrich", b"Nice"])
    names = {name: name for name in typed_rows()}
    casts = []
    for case, (column, values) in OIP_CASTS.items():
        arrays[case] = values
        casts.append({"op": "infer", "model": TYPED, "inputs": {**names, column: case}})
    results, outputs = triton.run(
        [
            {"op": "metadata", "model": TYPED},
            {"op": "config", "model": TYPED},
            {"op": "infer", "model": TYPED, "inputs": names},
            {"op": "infer", "model": TYPED, "inputs": {**names, "score": "score_text"}},
            {"op": "infer", "model": TYPED, "inputs": {**names, "city": "latin1"}},
            *casts,
        ],
        arrays,
    )
    for index, case in enumerate(OIP_CASTS, start=5):
        assert "outputs" in results[index], (case, results[index])
        np.testing.assert_array_equal(outputs[f"{index}/total"], typed["total"].to_numpy(), case)
        assert list(outputs[f"{index}/dtypes"]) == list(typed["dtypes"]), case
    advertised = {i["name"]: i["datatype"] for i in results[0]["inputs"]}
    assert advertised == {
        "count": "INT64",
        "score": "FP64",
        "city": "BYTES",
        "visits": "INT64",
        "seen": "BYTES",
        "name": "BYTES",
        "ok": "BOOL",
    }
    assert {o["name"]: o["datatype"] for o in results[0]["outputs"]} == {
        "total": "FP64",
        "dtypes": "BYTES",
    }
    assert {i["name"]: i["data_type"] for i in results[1]["inputs"]}["city"] == "TYPE_STRING"

    np.testing.assert_array_equal(outputs["2/total"], typed["total"].to_numpy())
    assert outputs["2/total"].dtype == np.float64
    assert list(outputs["2/dtypes"]) == list(typed["dtypes"])

    # Refused by the runtime's one rule, in its words; the gateway no longer judges types.
    assert results[3] == {
        "code": "INVALID_ARGUMENT",
        "message": f"model '{TYPED}': column 'score': string (pandas: str) (expected: float64)",
    }
    assert results[4]["code"] == "INVALID_ARGUMENT"
    assert results[4]["message"] == (
        f"model '{TYPED}': input 'city' (BYTES): element 1 is not valid UTF-8"
        " (expected: text; BYTES tensors carry strings here)"
    )


def test_strings_over_v2_rest_json_give_the_models_own_answer(
    protocol_gateway: GatewayProcess, typed: pd.DataFrame, typed_home: Path
) -> None:
    rows = typed_rows()
    rows["visits"] = np.array([7, 8, 9], dtype=np.int32)  # JSON has no NaN
    datatypes = {"count": "INT32", "score": "INT64", "visits": "INT32", "ok": "BOOL"}
    body = {
        "inputs": [
            {
                "name": name,
                "datatype": datatypes.get(name, "BYTES"),
                "shape": [3],
                "data": values.tolist(),
            }
            for name, values in rows.items()
        ]
    }
    request = urllib.request.Request(
        f"http://127.0.0.1:{protocol_gateway.http_port}/v2/models/{TYPED}/infer",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        outputs = {o["name"]: o for o in json.loads(answer.read())["outputs"]}
    frame = wanted()
    frame["visits"] = pd.array([7, 8, 9], dtype="Int64")
    own = Model.from_home(typed_home).predict(frame)
    assert isinstance(own, pd.DataFrame)
    assert outputs["dtypes"]["datatype"] == "BYTES"
    assert outputs["dtypes"]["data"] == list(own["dtypes"])
    assert outputs["total"]["data"] == list(own["total"])
