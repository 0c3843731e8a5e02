"""bench/peers' pre-encoded request frames, sent byte for byte over raw HTTP/2 as h2load sends
them, are parsed by a real gRPC server into the request we meant (no MLServer needed)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent import futures

import grpc
import h2.events
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from bench.peers.frames import (
    PYML_PREDICT_PATH,
    V2_INFER_PATH,
    V2_INPUT,
    grpc_frame,
    pyml_oip_request,
    pyml_predict_request,
    v2,
    v2_infer_request,
    v2_output,
)
from pyml._internal.payloads import decode_payload
from pyml.v1 import prediction_pb2
from tests.security.raw_http2 import RawHttp2


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    data: pd.DataFrame = load_breast_cancer(as_frame=True).data
    return data.head(3)


@pytest.fixture
def server() -> Iterator[tuple[int, dict[str, object]]]:
    """A gRPC server with both methods; each handler keeps the request it parsed."""
    pb = v2()
    seen: dict[str, object] = {}

    def keep(name: str, answer: Callable[[], object]) -> Callable[[object, object], object]:
        def handler(request: object, context: object) -> object:
            seen[name] = request
            return answer()

        return handler

    handlers = [
        grpc.method_handlers_generic_handler(
            "pyml.v1.PredictionService",
            {
                "Predict": grpc.unary_unary_rpc_method_handler(
                    keep("pyml", prediction_pb2.PredictResponse),
                    request_deserializer=prediction_pb2.PredictRequest.FromString,
                    response_serializer=prediction_pb2.PredictResponse.SerializeToString,
                )
            },
        ),
        grpc.method_handlers_generic_handler(
            "inference.GRPCInferenceService",
            {
                "ModelInfer": grpc.unary_unary_rpc_method_handler(
                    keep("v2", pb.ModelInferResponse),
                    request_deserializer=pb.ModelInferRequest.FromString,
                    response_serializer=pb.ModelInferResponse.SerializeToString,
                )
            },
        ),
    ]
    grpc_server = grpc.server(futures.ThreadPoolExecutor(2), handlers=handlers)
    port = grpc_server.add_insecure_port("127.0.0.1:0")
    grpc_server.start()
    yield port, seen
    grpc_server.stop(None)


def send_frame(port: int, path: str, frame: bytes) -> str:
    """The raw frame on one stream; returns the answer's grpc-status."""
    client = RawHttp2(port)
    try:
        stream = client.start_predict(path)
        assert client.send_some(stream, frame) == len(frame)
        client.conn.end_stream(stream)
        client.flush()
        deadline = time.monotonic() + 10
        while stream not in client.ended_streams() and time.monotonic() < deadline:
            client.receive(0.5)
        for event in client.events:
            if isinstance(event, h2.events.TrailersReceived | h2.events.ResponseReceived):
                status = dict(event.headers).get("grpc-status")  # type: ignore[call-overload]
                if status is not None:
                    return str(status)
        raise AssertionError(f"no grpc-status in {client.events}")
    finally:
        client.close()


def test_pyml_predict_frame_parses_into_the_rows(
    server: tuple[int, dict[str, object]], rows: pd.DataFrame
) -> None:
    port, seen = server
    message = pyml_predict_request("breast_cancer_lr", rows).SerializeToString()
    frame = grpc_frame(message)
    assert frame[:5] == b"\x00" + len(message).to_bytes(4, "big")

    assert send_frame(port, PYML_PREDICT_PATH, frame) == "0"
    request = seen["pyml"]
    assert isinstance(request, prediction_pb2.PredictRequest)
    assert request.model_name == "breast_cancer_lr"
    decoded = decode_payload("dataframe", request.payload.arrow_ipc)
    assert isinstance(decoded, pd.DataFrame)
    pd.testing.assert_frame_equal(decoded, rows)


def test_v2_infer_frame_parses_into_the_rows(
    server: tuple[int, dict[str, object]], rows: pd.DataFrame
) -> None:
    port, seen = server
    frame = grpc_frame(v2_infer_request("breast_cancer_lr", rows).SerializeToString())  # type: ignore[attr-defined]

    assert send_frame(port, V2_INFER_PATH, frame) == "0"
    request = seen["v2"]
    [tensor] = request.inputs  # type: ignore[attr-defined]
    assert (tensor.name, tensor.datatype, list(tensor.shape)) == (V2_INPUT, "FP64", [3, 30])
    matrix = np.frombuffer(request.raw_input_contents[0], dtype=np.float64).reshape(3, 30)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(matrix, rows.to_numpy())


def test_pyml_oip_frame_parses_into_one_column_per_input(
    server: tuple[int, dict[str, object]], rows: pd.DataFrame
) -> None:
    port, seen = server
    frame = grpc_frame(pyml_oip_request("breast_cancer_lr", rows).SerializeToString())  # type: ignore[attr-defined]

    assert send_frame(port, V2_INFER_PATH, frame) == "0"
    request = seen["v2"]
    inputs = list(request.inputs)  # type: ignore[attr-defined]
    assert [t.name for t in inputs] == list(rows.columns)
    assert {(t.datatype, tuple(t.shape)) for t in inputs} == {("FP64", (3,))}
    for index, name in enumerate(rows.columns):
        column = np.frombuffer(request.raw_input_contents[index], dtype=np.float64)  # type: ignore[attr-defined]
        np.testing.assert_array_equal(column, rows[name].to_numpy())


def test_v2_output_reads_the_named_output_of_raw_contents() -> None:
    pb = v2()
    response = pb.ModelInferResponse()
    for name, values in (("malignant", [1.0, 0.0]), ("malignant_proba", [0.25, 0.5])):
        response.outputs.add(name=name, datatype="FP64", shape=[2])
        response.raw_output_contents.append(np.asarray(values).tobytes())
    np.testing.assert_array_equal(v2_output(response, "malignant_proba"), [0.25, 0.5])
