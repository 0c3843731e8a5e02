"""KServe V2 REST on the gateway's HTTP port, called with plain urllib and JSON (what a team
with only curl would write), against the examples served from their images in real containers:
the same answers as PyML's gRPC Predict, and errors as {"error"} with the status and pyml-error."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import numpy as np
import pandas as pd

from pyml._internal.gateway_process import GatewayProcess
from pyml.client import Client


def call(
    gateway: GatewayProcess, path: str, body: dict[str, Any] | None = None
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """(status, headers, JSON body) of a GET (no body) or POST."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{gateway.http_port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def outputs(answer: dict[str, Any]) -> dict[str, np.ndarray]:
    """The answer's outputs as arrays of their V2 datatype and shape."""
    dtypes = {"FP32": np.float32, "FP64": np.float64, "INT64": np.int64, "BOOL": np.bool_}
    return {
        o["name"]: np.array(o["data"], dtype=dtypes[o["datatype"]]).reshape(o["shape"])
        for o in answer["outputs"]
    }


def test_v2_rest_predicts_what_grpc_predicts(
    serving: Client, container_gateway: GatewayProcess, cancer_rows: pd.DataFrame
) -> None:
    rows = cancer_rows.sample(40, random_state=3).reset_index(drop=True)
    status, _, answer = call(
        container_gateway,
        "/v2/models/breast_cancer_lr/infer",
        {
            "id": "r-1",
            "inputs": [
                {"name": n, "shape": [len(rows)], "datatype": "FP64", "data": rows[n].tolist()}
                for n in rows.columns
            ],
        },
    )
    assert status == 200, answer
    assert (answer["model_name"], answer["model_version"], answer["id"]) == (
        "breast_cancer_lr",
        "1",
        "r-1",
    )
    reference = serving.predict("breast_cancer_lr", rows)
    assert isinstance(reference, pd.DataFrame)
    got = outputs(answer)
    assert list(got) == list(reference.columns)
    for name in reference.columns:
        np.testing.assert_array_equal(got[name], reference[name].to_numpy())

    # A tensor model, its input nested as its shape ([rows, 4]); only the outputs asked for.
    x = np.random.default_rng(4).normal(size=(6, 4)).astype(np.float32)
    status, _, answer = call(
        container_gateway,
        "/v2/models/softmax_tensor/versions/1/infer",
        {
            "inputs": [{"name": "x", "shape": [6, 4], "datatype": "FP32", "data": x.tolist()}],
            "outputs": [{"name": "probabilities"}, {"name": "label"}],
        },
    )
    assert status == 200, answer
    tensors = serving.predict("softmax_tensor", {"x": x})
    assert isinstance(tensors, dict)
    got = outputs(answer)
    assert set(got) == {"probabilities", "label"}
    for name, array in got.items():
        assert array.dtype == tensors[name].dtype and array.shape == tensors[name].shape
        np.testing.assert_array_equal(array, tensors[name])

    status, _, metadata = call(container_gateway, "/v2/models/softmax_tensor")
    assert status == 200
    assert metadata["inputs"] == [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}]
    assert call(container_gateway, "/v2/models/softmax_tensor/ready")[0] == 200


def test_v2_rest_errors_name_the_model_with_the_status_and_kind(
    serving: Client, container_gateway: GatewayProcess
) -> None:
    status, headers, answer = call(
        container_gateway,
        "/v2/models/softmax_tensor/infer",
        {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3, 4]}]},
    )
    assert (status, headers["pyml-error"]) == (400, "INVALID_INPUT")
    assert (
        "model 'softmax_tensor'" in answer["error"] and "FP64 (expected: FP32)" in answer["error"]
    )
    status, headers, answer = call(container_gateway, "/v2/models/no_such_model/ready")
    assert (status, headers["pyml-error"]) == (404, "NOT_FOUND")
    assert answer == {"error": "model 'no_such_model' is not deployed"}
    # The model serves on.
    x = {"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}
    assert call(container_gateway, "/v2/models/softmax_tensor/infer", {"inputs": [x]})[0] == 200
