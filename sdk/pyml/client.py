"""`pyml.Client`: predictions and deployments through a gateway's gRPC API."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import grpc

from pyml._internal.payloads import ModelInput, ModelOutput, decode_payload, encode_payload, kind_of
from pyml.contract import ModelKind
from pyml.v1 import admin_pb2, admin_pb2_grpc, payload_pb2, prediction_pb2, prediction_pb2_grpc

_KIND_TO_WIRE: dict[ModelKind, payload_pb2.PayloadKind] = {
    "dataframe": payload_pb2.PAYLOAD_KIND_DATAFRAME,
    "tensors": payload_pb2.PAYLOAD_KIND_TENSORS,
}
_WIRE_TO_KIND = {wire: kind for kind, wire in _KIND_TO_WIRE.items()}
_Response = TypeVar("_Response")
# Large frames must fit: the gateway enforces its own limit and answers RESOURCE_EXHAUSTED.
_CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
]


class RemoteError(Exception):
    """The gateway answered with an error status: `code`, `details`, and PyML trailers."""

    def __init__(self, code: grpc.StatusCode, details: str, trailers: dict[str, str]) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details
        self.trailers = trailers


class DeploymentFailed(RuntimeError):
    """A deployment ended FAILED; `deployment` holds the reason and the runtime's last logs."""

    def __init__(self, deployment: DeploymentInfo) -> None:
        logs = "\n".join(deployment.last_log_lines)
        super().__init__(
            f"deployment of '{deployment.model_name}' failed: {deployment.reason}"
            + (f"\nlast runtime log lines:\n{logs}" if logs else "")
        )
        self.deployment = deployment


@dataclass(frozen=True)
class DeploymentInfo:
    model_name: str
    model_version: int
    state: str
    reason: str
    last_log_lines: list[str]
    kind: str
    home_path: str

    @classmethod
    def from_wire(cls, message: admin_pb2.Deployment) -> DeploymentInfo:
        return cls(
            model_name=message.model_name,
            model_version=message.model_version,
            state=admin_pb2.DeploymentState.Name(message.state).removeprefix("DEPLOYMENT_STATE_"),
            reason=message.reason,
            last_log_lines=list(message.last_log_lines),
            kind=_WIRE_TO_KIND.get(message.kind, "unspecified"),
            home_path=message.home_path,
        )


class Client:
    """A connection to a PyML gateway: `pyml.Client("localhost:7070")`."""

    def __init__(self, target: str = "localhost:7070", timeout: float = 30.0) -> None:
        self.target = target
        self.timeout = timeout
        self._channel = grpc.insecure_channel(target, options=_CHANNEL_OPTIONS)
        self._predictions = prediction_pb2_grpc.PredictionServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._admin = admin_pb2_grpc.AdminServiceStub(self._channel)  # type: ignore[no-untyped-call]

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def predict(
        self,
        model: str,
        data: ModelInput,
        version: int | None = None,
        timeout: float | None = None,
    ) -> ModelOutput:
        """Predict with a deployed model: a DataFrame in, a DataFrame out (or named arrays)."""
        kind = kind_of(data)
        response = self.predict_raw(model, kind, encode_payload(kind, data), version, timeout)
        return decode_payload(_WIRE_TO_KIND[response.payload.kind], response.payload.arrow_ipc)

    def predict_raw(
        self,
        model: str,
        kind: ModelKind,
        arrow_ipc: bytes,
        version: int | None = None,
        timeout: float | None = None,
    ) -> prediction_pb2.PredictResponse:
        """Send already-encoded Arrow IPC bytes (benchmarks, other codecs, bad-input tests)."""
        request = prediction_pb2.PredictRequest(
            model_name=model,
            payload=payload_pb2.Payload(kind=_KIND_TO_WIRE[kind], arrow_ipc=arrow_ipc),
            request_id=str(uuid.uuid4()),
        )
        if version is not None:
            request.model_version = version
        response: prediction_pb2.PredictResponse = self._call(
            self._predictions.Predict, request, timeout
        )
        return response

    def deploy(
        self,
        home_or_name: str | Path,
        name: str | None = None,
        version: int = 0,
        timeout: float = 180.0,
    ) -> DeploymentInfo:
        """Deploy a model home folder; returns once READY, raises DeploymentFailed otherwise."""
        home = Path(home_or_name)
        if not home.is_dir():
            raise ValueError(
                f"{home_or_name!r} is not a model home folder (deploying registered versions "
                "by name needs the registry, which comes with packaging)"
            )
        home = home.resolve()
        model_name = name or _home_name(home)
        request = admin_pb2.DeployRequest(
            model_name=model_name, home_path=str(home), model_version=version, wait=True
        )
        deployment = DeploymentInfo.from_wire(self._call(self._admin.Deploy, request, timeout))
        if deployment.state != "READY":
            raise DeploymentFailed(deployment)
        return deployment

    def undeploy(self, name: str) -> None:
        self._call(self._admin.Undeploy, admin_pb2.UndeployRequest(model_name=name), None)

    def deployment(self, name: str) -> DeploymentInfo:
        request = admin_pb2.GetDeploymentRequest(model_name=name)
        return DeploymentInfo.from_wire(self._call(self._admin.GetDeployment, request, None))

    def deployments(self) -> list[DeploymentInfo]:
        request = admin_pb2.ListDeploymentsRequest()
        response = self._call(self._admin.ListDeployments, request, None)
        return [DeploymentInfo.from_wire(d) for d in response.deployments]

    def _call(
        self, method: Callable[..., _Response], request: object, timeout: float | None
    ) -> _Response:
        try:
            return method(request, timeout=timeout or self.timeout)
        except grpc.RpcError as error:
            raise _remote_error(error) from None


def _remote_error(error: grpc.RpcError) -> RemoteError:
    call: grpc.Call = error  # type: ignore[assignment]
    trailers = {key: str(value) for key, value in (call.trailing_metadata() or ())}
    return RemoteError(call.code(), call.details() or "", trailers)


def _home_name(home: Path) -> str:
    from pyml_runtime.config import load_config

    return load_config(home).name or home.name
