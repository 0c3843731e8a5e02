"""The Thrift front end, called by the Apache `thrift` library with code generated from our IDL
(fresh, in the test) and by `pyml.ThriftClient`: same answers as gRPC, same errors, and bad
frames (truncated, oversized, garbage, abandoned mid-call) never stop the gateway serving."""

from __future__ import annotations

import importlib
import shutil
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TTransport

import pyml
from pyml._internal.gateway_process import GatewayProcess
from pyml.client import Client, RemoteError
from pyml_runtime import codec

from .conftest import ENVELOPE_MARGIN_BYTES, MAX_PAYLOAD_BYTES

IDL = Path(__file__).resolve().parents[2] / "protos" / "pyml" / "v1" / "prediction.thrift"


@pytest.fixture(scope="session")
def idl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """Python code generated now from protos/, by the Thrift compiler, under its own name (so
    it is not the SDK's committed copy): what any team with our IDL would have."""
    thrift = shutil.which("thrift")
    assert thrift, "the thrift compiler is missing: run 'make tools'"
    out = tmp_path_factory.mktemp("thrift-gen")
    source = out / "prediction.thrift"
    text = IDL.read_text().replace(
        "namespace py pyml.thrift_v1.prediction", "namespace py theirs.prediction"
    )
    assert "theirs.prediction" in text
    source.write_text(text)
    subprocess.run([thrift, "--gen", "py", "-out", str(out), str(source)], check=True)
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("theirs.prediction.PredictionService")
    finally:
        sys.path.remove(str(out))


class TheirClient:
    """A plain Apache Thrift client: framed transport, binary protocol, generated stubs."""

    def __init__(self, idl: ModuleType, port: int) -> None:
        self.ttypes = importlib.import_module("theirs.prediction.ttypes")
        sock = TSocket.TSocket("127.0.0.1", port)
        sock.setTimeout(60_000)
        self.transport = TTransport.TFramedTransport(sock)
        self.client = idl.Client(TBinaryProtocol.TBinaryProtocol(self.transport))
        self.transport.open()

    def predict(self, model: str, kind: int, data: bytes, **fields: Any) -> Any:
        t = self.ttypes
        request = t.PredictRequest(
            modelName=model, payload=t.Payload(kind=kind, arrowIpc=data), **fields
        )
        return self.client.predict(request)

    def close(self) -> None:
        self.transport.close()


@pytest.fixture()
def theirs(idl: ModuleType, protocol_gateway: GatewayProcess) -> Iterator[TheirClient]:
    client = TheirClient(idl, protocol_gateway.thrift_port)
    yield client
    client.close()


@pytest.fixture()
def ours(protocol_gateway: GatewayProcess) -> Iterator[pyml.ThriftClient]:
    with pyml.ThriftClient("127.0.0.1", protocol_gateway.thrift_port, timeout=60) as client:
        yield client


def assert_serving(gateway: GatewayProcess, rows: pd.DataFrame) -> None:
    """A good call after a bad one: the gateway kept serving."""
    with pyml.ThriftClient("127.0.0.1", gateway.thrift_port, timeout=60) as client:
        result = client.predict("breast_cancer_lr", rows.head(2))
    assert isinstance(result, pd.DataFrame) and len(result) == 2


def test_their_client_gets_the_grpc_answers_byte_for_byte(
    grpc_client: Client, theirs: TheirClient, cancer_rows: pd.DataFrame
) -> None:
    t = theirs.ttypes
    frame = codec.encode_dataframe(cancer_rows.sample(100, random_state=2))
    tensors = codec.encode_tensors({"x": np.random.default_rng(5).normal(size=(9, 4)).astype("f4")})

    for model, kind, wire_kind, data in [
        ("breast_cancer_lr", "dataframe", t.PayloadKind.DATAFRAME, frame),
        ("softmax_tensor", "tensors", t.PayloadKind.TENSORS, tensors),
    ]:
        response = theirs.predict(model, wire_kind, data, requestId="mine", modelVersion=0)
        reference = grpc_client.predict_raw(model, kind, data)  # type: ignore[arg-type]
        assert response.payload.arrowIpc == reference.payload.arrow_ipc, model
        assert response.payload.kind == wire_kind
        assert (response.modelName, response.modelVersion) == (model, 0)
        assert response.requestId == "mine"

    # No authorization: this gateway has no identities.
    models = {m.modelName: m for m in theirs.client.listModels("")}
    assert models["softmax_tensor"].state == t.ModelState.READY
    assert models["softmax_tensor"].kind == t.PayloadKind.TENSORS
    assert theirs.client.getModel("breast_cancer_lr", "").kind == t.PayloadKind.DATAFRAME


def test_pyml_thrift_client_equals_the_grpc_client(
    grpc_client: Client, ours: pyml.ThriftClient, cancer_rows: pd.DataFrame
) -> None:
    rows = cancer_rows.sample(150, random_state=4).reset_index(drop=True)
    online = ours.predict("breast_cancer_lr", rows)
    assert isinstance(online, pd.DataFrame)
    pdt.assert_frame_equal(online, grpc_client.predict("breast_cancer_lr", rows), check_exact=True)

    x = np.random.default_rng(6).normal(size=(20, 4)).astype(np.float32)
    tensors = ours.predict("softmax_tensor", {"x": x})
    reference = grpc_client.predict("softmax_tensor", {"x": x})
    assert isinstance(tensors, dict) and isinstance(reference, dict)
    assert set(tensors) == {"probabilities", "label", "rows"}
    for name, array in reference.items():
        assert tensors[name].dtype == array.dtype and tensors[name].shape == array.shape
        np.testing.assert_array_equal(tensors[name], array)
    assert ("softmax_tensor", 0, "READY") in ours.models()


def test_errors_have_the_grpc_codes_and_messages(
    grpc_client: Client,
    theirs: TheirClient,
    ours: pyml.ThriftClient,
    protocol_gateway: GatewayProcess,
    cancer_rows: pd.DataFrame,
) -> None:
    t = theirs.ttypes
    with pytest.raises(t.PymlError) as raw:
        theirs.predict("no_such_model", t.PayloadKind.DATAFRAME, b"x")
    assert raw.value.code == t.ErrorCode.NOT_FOUND
    assert raw.value.message == "model 'no_such_model' is not deployed"
    assert raw.value.details == {"pyml-error": "NOT_FOUND"}

    cases: list[tuple[str, str, bytes, grpc.StatusCode]] = [
        ("breast_cancer_lr", "dataframe", b"not arrow at all", grpc.StatusCode.INVALID_ARGUMENT),
        ("breast_cancer_lr", "tensors", b"x", grpc.StatusCode.INVALID_ARGUMENT),
        (
            "breast_cancer_lr",
            "dataframe",
            codec.encode_dataframe(cancer_rows.head(2).drop(columns=["mean radius"])),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            "breast_cancer_lr",
            "dataframe",
            b"\0" * (MAX_PAYLOAD_BYTES + 1),
            grpc.StatusCode.RESOURCE_EXHAUSTED,
        ),
    ]
    for model, kind, data, code in cases:
        with pytest.raises(RemoteError) as over_thrift:
            ours.predict_raw(model, kind, data)  # type: ignore[arg-type]
        with pytest.raises(RemoteError) as over_grpc:
            grpc_client.predict_raw(model, kind, data)  # type: ignore[arg-type]
        assert over_thrift.value.code == over_grpc.value.code == code
        assert over_thrift.value.details == over_grpc.value.details
        assert over_thrift.value.trailers.get("pyml-error") == over_grpc.value.trailers.get(
            "pyml-error"
        )
    assert_serving(protocol_gateway, cancer_rows)


def _frame(idl: ModuleType, model: str, data: bytes) -> bytes:
    """A complete predict call as framed bytes on the wire."""
    ttypes = importlib.import_module("theirs.prediction.ttypes")
    buffer = TTransport.TMemoryBuffer()
    client = idl.Client(TBinaryProtocol.TBinaryProtocol(buffer))
    request = ttypes.PredictRequest(
        modelName=model, payload=ttypes.Payload(kind=ttypes.PayloadKind.DATAFRAME, arrowIpc=data)
    )
    client.send_predict(request)
    body: bytes = buffer.getvalue()
    return struct.pack(">i", len(body)) + body


def _raw(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def _closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_an_oversized_frame_is_refused_and_the_gateway_serves_on(
    protocol_gateway: GatewayProcess, grpc_client: Client, cancer_rows: pd.DataFrame
) -> None:
    with _raw(protocol_gateway.thrift_port) as sock:
        sock.sendall(struct.pack(">i", MAX_PAYLOAD_BYTES + ENVELOPE_MARGIN_BYTES + 1) + b"\0" * 64)
        assert _closed_by_peer(sock)
    assert_serving(protocol_gateway, cancer_rows)


def test_truncated_and_garbage_frames_are_dropped(
    idl: ModuleType,
    protocol_gateway: GatewayProcess,
    grpc_client: Client,
    cancer_rows: pd.DataFrame,
) -> None:
    whole = _frame(idl, "breast_cancer_lr", codec.encode_dataframe(cancer_rows.head(5)))
    # The frame's announced length is never reached: the client gives up half-way.
    with _raw(protocol_gateway.thrift_port) as sock:
        sock.sendall(whole[: len(whole) // 2])
    # A complete frame whose message stops half-way: the server cannot parse it.
    body = whole[4:]
    with _raw(protocol_gateway.thrift_port) as sock:
        cut = body[: len(body) // 2]
        sock.sendall(struct.pack(">i", len(cut)) + cut)
        assert _closed_by_peer(sock)
    with _raw(protocol_gateway.thrift_port) as sock:
        sock.sendall(struct.pack(">i", 12) + b"garbage here")
        assert _closed_by_peer(sock)
    assert_serving(protocol_gateway, cancer_rows)


def test_a_client_that_leaves_mid_call_does_not_stop_the_gateway(
    idl: ModuleType,
    protocol_gateway: GatewayProcess,
    grpc_client: Client,
    cancer_rows: pd.DataFrame,
) -> None:
    many = pd.concat([cancer_rows] * 4, ignore_index=True)
    for _ in range(5):
        with _raw(protocol_gateway.thrift_port) as sock:
            sock.sendall(_frame(idl, "breast_cancer_lr", codec.encode_dataframe(many)))
        # Closed before the answer: the gateway's write of it must fail quietly.
    assert_serving(protocol_gateway, cancer_rows)
    assert protocol_gateway.process.poll() is None
