"""One real gRPC call with the exact bytes h2load will send, checked against the in-process
answer before any timing: the size of that answer is how the h2load runs count successes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import grpc
import numpy as np

from bench.peers.frames import v2, v2_output, v2_proba
from pyml._internal.payloads import decode_payload
from pyml.v1 import prediction_pb2


@dataclass(frozen=True)
class Probe:
    answer_bytes: int  # the gRPC frame of one OK answer: 5-byte prefix + message
    max_abs_diff: float


def call_raw(target: str, method: str, message: bytes, timeout: float = 120.0) -> bytes:
    """A unary call that sends and returns serialized bytes untouched."""
    options = [("grpc.max_receive_message_length", 256 * 1024 * 1024)]
    with grpc.insecure_channel(target, options=options) as channel:
        call: Callable[..., bytes] = channel.unary_unary(method, None, None)
        return call(message, timeout=timeout)


def _checked(answer: bytes, got: np.ndarray, expected: np.ndarray, who: str) -> Probe:
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-9, atol=1e-12):
        raise RuntimeError(f"{who}'s answer is not predict_proba: {got[:3]} != {expected[:3]}")
    return Probe(5 + len(answer), float(np.max(np.abs(got - expected))))


def probe_pyml(target: str, method: str, message: bytes, expected: np.ndarray) -> Probe:
    """`expected`: predict_proba(rows)[:, 0], the example's malignant_proba column."""
    answer = call_raw(target, method, message)
    response = prediction_pb2.PredictResponse.FromString(answer)
    frame = decode_payload("dataframe", response.payload.arrow_ipc)
    got = np.asarray(frame["malignant_proba"], dtype=np.float64)
    return _checked(answer, got, expected, "PyML")


def probe_v2(target: str, method: str, message: bytes, expected: np.ndarray) -> Probe:
    """`expected`: predict_proba(rows), [n, 2]."""
    answer = call_raw(target, method, message)
    got = v2_proba(v2().ModelInferResponse.FromString(answer))
    return _checked(answer, got, expected, "MLServer")


def probe_pyml_oip(target: str, method: str, message: bytes, expected: np.ndarray) -> Probe:
    """PyML's OIP port: `expected` as for `probe_pyml`, in the output named after the column."""
    answer = call_raw(target, method, message)
    got = v2_output(v2().ModelInferResponse.FromString(answer), "malignant_proba")
    return _checked(answer, got, expected, "PyML OIP")
