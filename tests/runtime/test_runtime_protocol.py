"""The sidecar protocol's version, the runtime's side: GetMetadata says which protocol the
runtime speaks, and a gateway speaking another one is refused with both versions named."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

import pyml_runtime
from pyml.v1 import runtime_pb2
from pyml_runtime import protocol
from pyml_runtime.dataplane import Dataplane
from pyml_runtime.loader import load_model
from pyml_runtime.servicer import ModelRuntimeServicer


class Aborted(Exception):
    """What `context.abort` raises (gRPC's own raises too: the call ends there)."""


class FakeContext:
    """The parts of a grpc.ServicerContext the servicer uses on a refusal."""

    def __init__(self) -> None:
        self.trailers: dict[str, str] = {}
        self.code: grpc.StatusCode | None = None
        self.details = ""

    def set_trailing_metadata(self, trailers: tuple[tuple[str, str], ...]) -> None:
        self.trailers = dict(trailers)

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.code, self.details = code, details
        raise Aborted(details)


@pytest.fixture
def servicer(doubler_home: Path) -> ModelRuntimeServicer:
    dataplane = Dataplane.for_home(load_model(doubler_home))
    return ModelRuntimeServicer(lambda: dataplane, "doubler")


def metadata_request(gateway_protocol: int) -> runtime_pb2.GetMetadataRequest:
    return runtime_pb2.GetMetadataRequest(
        gateway_protocol=gateway_protocol, gateway_version="9.8.7"
    )


def test_a_gateway_of_the_runtimes_protocol_gets_the_metadata_with_the_protocol(
    servicer: ModelRuntimeServicer,
) -> None:
    context = FakeContext()
    request = metadata_request(protocol.PROTOCOL_VERSION)
    meta = servicer.GetMetadata(request, context)  # type: ignore[arg-type]
    assert meta.name == "doubler"
    assert meta.sidecar_protocol == protocol.PROTOCOL_VERSION == 1
    assert meta.runtime_version == pyml_runtime.__version__
    assert context.code is None


@pytest.mark.parametrize("gateway_protocol", [0, 2])
def test_a_gateway_of_another_protocol_is_refused_naming_both_versions(
    servicer: ModelRuntimeServicer, gateway_protocol: int, caplog: pytest.LogCaptureFixture
) -> None:
    context = FakeContext()
    with pytest.raises(Aborted):
        servicer.GetMetadata(metadata_request(gateway_protocol), context)  # type: ignore[arg-type]
    assert context.code is grpc.StatusCode.FAILED_PRECONDITION
    version = pyml_runtime.__version__
    assert context.details == (
        f"model 'doubler': this runtime (PyML {version}) speaks sidecar protocol 1, "
        f"the gateway (PyML 9.8.7) speaks sidecar protocol {gateway_protocol}"
        + (" (from before versioning)" if gateway_protocol == 0 else "")
        + ": they cannot talk"
    )
    assert context.details in caplog.messages  # the container's log says so too
    # For the gateway to word its own message: what the runtime is, without parsing text.
    assert context.trailers == {
        "pyml-error": "PROTOCOL_MISMATCH",
        "pyml-runtime-version": version,
        "pyml-sidecar-protocol": "1",
    }


def test_a_refusal_does_not_wait_for_the_model_to_load() -> None:
    # A gateway it cannot serve learns so at once, not after the model has loaded.
    servicer = ModelRuntimeServicer(lambda: None, "slow")
    context = FakeContext()
    with pytest.raises(Aborted):
        servicer.GetMetadata(metadata_request(2), context)  # type: ignore[arg-type]
    assert context.code is grpc.StatusCode.FAILED_PRECONDITION
    assert context.trailers["pyml-error"] == "PROTOCOL_MISMATCH"
