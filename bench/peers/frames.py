"""Pre-encoded gRPC request frames for h2load, and the V2 (Open Inference Protocol) stubs.

A gRPC request body on HTTP/2 is one length-prefixed message: a 1-byte compressed flag (0), the
message length as a 4-byte big-endian integer, then the serialized message. h2load sends the
same bytes for every request, so each server parses a full request every time.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import shutil
import struct
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from pyml._internal.payloads import encode_payload
from pyml.v1 import payload_pb2, prediction_pb2

REPO = Path(__file__).resolve().parents[2]
PYML_PREDICT_PATH = "/pyml.v1.PredictionService/Predict"
V2_INFER_PATH = "/inference.GRPCInferenceService/ModelInfer"
# The name mlserver-sklearn gives the probabilities when asked for them.
V2_PROBA_OUTPUT = "predict_proba"
V2_INPUT = "input-0"


def grpc_frame(message: bytes) -> bytes:
    """One uncompressed gRPC length-prefixed message."""
    return struct.pack(">BI", 0, len(message)) + message


def pyml_predict_request(model: str, rows: pd.DataFrame) -> prediction_pb2.PredictRequest:
    """PyML's Predict request with the rows as a DataFrame payload (no request id: the gateway
    makes one, as for a client that sends none)."""
    payload = payload_pb2.Payload(
        kind=payload_pb2.PAYLOAD_KIND_DATAFRAME, arrow_ipc=encode_payload("dataframe", rows)
    )
    return prediction_pb2.PredictRequest(model_name=model, payload=payload)


@functools.cache
def v2() -> ModuleType:
    """The V2 protobuf module, generated once per process from protos/inference with the
    grpcio-tools of the dev virtualenv (PyML ships no Python stubs for the OIP)."""
    from grpc_tools import protoc  # type: ignore[import-untyped]

    out = Path(tempfile.mkdtemp(prefix="pyml-v2-stubs-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    proto = REPO / "protos" / "inference" / "grpc_predict_v2.proto"
    include = str(Path(protoc.__file__).parent / "_proto")
    status = protoc.main(
        ["protoc", f"-I{REPO / 'protos'}", f"-I{include}", f"--python_out={out}", str(proto)]
    )
    if status != 0:
        raise RuntimeError(f"protoc failed ({status}) on {proto}")
    sys.path.insert(0, str(out))
    return importlib.import_module("inference.grpc_predict_v2_pb2")


def v2_infer_request(model: str, rows: pd.DataFrame) -> object:
    """A V2 ModelInferRequest: the rows as one FP64 tensor [n, 30] in raw_input_contents (the
    fastest layout MLServer decodes), asking for the class probabilities."""
    pb = v2()
    matrix = np.ascontiguousarray(rows.to_numpy(dtype=np.float64))
    request = pb.ModelInferRequest(model_name=model)
    tensor = request.inputs.add(name=V2_INPUT, datatype="FP64", shape=list(matrix.shape))
    tensor.parameters["content_type"].string_param = "np"
    request.outputs.add(name=V2_PROBA_OUTPUT)
    request.raw_input_contents.append(matrix.tobytes())
    return request


def pyml_oip_request(model: str, rows: pd.DataFrame) -> object:
    """A V2 ModelInferRequest for PyML's OIP port: one FP64 [n] input per DataFrame column, in
    raw_input_contents (docs/wire-format.md; the layout perf_analyzer sends it)."""
    request = v2().ModelInferRequest(model_name=model)
    for name in rows.columns:
        request.inputs.add(name=str(name), datatype="FP64", shape=[len(rows)])
        column = np.ascontiguousarray(rows[name].to_numpy(dtype=np.float64))
        request.raw_input_contents.append(column.tobytes())
    return request


def v2_output(response: object, name: str) -> np.ndarray:
    """One output of a ModelInferResponse as float64 (raw or typed contents)."""
    [output] = [o for o in response.outputs if o.name == name]  # type: ignore[attr-defined]
    if response.raw_output_contents:  # type: ignore[attr-defined]
        index = list(response.outputs).index(output)  # type: ignore[attr-defined]
        raw = response.raw_output_contents[index]  # type: ignore[attr-defined]
        values = np.frombuffer(raw, dtype=np.float64)
    else:
        values = np.asarray(output.contents.fp64_contents, dtype=np.float64)
    return values.reshape(list(output.shape))


def v2_proba(response: object) -> np.ndarray:
    """The [n, 2] probabilities of a ModelInferResponse (raw or typed contents)."""
    return v2_output(response, V2_PROBA_OUTPUT)
