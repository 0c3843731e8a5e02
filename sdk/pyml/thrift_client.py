"""`pyml.ThriftClient`: predictions through a gateway's Thrift front end (default port 7071).

The same payload codec as `pyml.Client`, so both answer with identical frames and arrays.
Errors arrive as the same `pyml.client.RemoteError`: the Thrift error codes are the gRPC status
codes, and its `trailers` hold the error's details (`pyml-error`, `pyml-exception-type`).
Needs the `thrift` package (`pip install 'pyml[thrift]'`); imported only when used.
"""

from __future__ import annotations

import uuid

import grpc

try:
    from thrift.protocol import TBinaryProtocol
    from thrift.transport import TSocket, TTransport
except ImportError as missing:  # the extra, named: not "No module named 'thrift'"
    raise ImportError(
        "pyml.ThriftClient needs the thrift package: pip install 'pyml[thrift]'"
    ) from missing

from pyml._internal.credentials import find_token
from pyml._internal.payloads import ModelInput, ModelOutput, decode_payload, encode_payload, kind_of
from pyml.client import RemoteError
from pyml.contract import ModelKind
from pyml.thrift_v1.prediction import PredictionService, ttypes

_KIND_TO_WIRE: dict[ModelKind, int] = {
    "dataframe": ttypes.PayloadKind.DATAFRAME,
    "tensors": ttypes.PayloadKind.TENSORS,
}
_WIRE_TO_KIND = {wire: kind for kind, wire in _KIND_TO_WIRE.items()}


class ThriftClient:
    """One framed, binary-protocol connection to a gateway: `pyml.ThriftClient(host, 7071)`.

    Not thread-safe (a Thrift connection carries one call at a time): one client per thread.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 7071,
        timeout: float = 30.0,
        token: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        # As pyml.Client: $PYML_TOKEN, else $PYML_HOME/token; carried in each request.
        found = token if token is not None else find_token()
        self._authorization = f"Bearer {found}" if found else None
        socket = TSocket.TSocket(host, port)
        socket.setTimeout(timeout * 1000)
        self._transport = TTransport.TFramedTransport(socket)
        self._client = PredictionService.Client(TBinaryProtocol.TBinaryProtocol(self._transport))  # type: ignore[no-untyped-call]
        self._transport.open()

    def __enter__(self) -> ThriftClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def predict(self, model: str, data: ModelInput, version: int | None = None) -> ModelOutput:
        """Predict with a deployed model: a DataFrame in, a DataFrame out (or named arrays)."""
        kind = kind_of(data)
        response = self.predict_raw(model, kind, encode_payload(kind, data), version)
        return decode_payload(_WIRE_TO_KIND[response.payload.kind], response.payload.arrowIpc)

    def predict_raw(
        self, model: str, kind: ModelKind, arrow_ipc: bytes, version: int | None = None
    ) -> ttypes.PredictResponse:
        """Send already-encoded Arrow IPC bytes (other codecs, bad-input tests)."""
        request = ttypes.PredictRequest(  # type: ignore[no-untyped-call]
            modelName=model,
            modelVersion=version,
            payload=ttypes.Payload(kind=_KIND_TO_WIRE[kind], arrowIpc=arrow_ipc),  # type: ignore[no-untyped-call]
            requestId=str(uuid.uuid4()),
            # The gateway bounds the call by this too, so it gives up when the client does.
            timeoutMs=int(self.timeout * 1000),
            authorization=self._authorization,
        )
        try:
            response: ttypes.PredictResponse = self._client.predict(request)  # type: ignore[no-untyped-call]
        except ttypes.PymlError as error:
            raise _remote_error(error) from None
        return response

    def models(self) -> list[tuple[str, int, str]]:
        """(name, version, state) of every model the gateway serves that the caller may use."""
        try:
            infos = self._client.listModels(self._authorization or "")  # type: ignore[no-untyped-call]
        except ttypes.PymlError as error:
            raise _remote_error(error) from None
        return [
            (info.modelName, info.modelVersion, ttypes.ModelState._VALUES_TO_NAMES[info.state])
            for info in infos
        ]


def _remote_error(error: ttypes.PymlError) -> RemoteError:
    name = ttypes.ErrorCode._VALUES_TO_NAMES.get(error.code, "UNKNOWN")
    code = getattr(grpc.StatusCode, name, grpc.StatusCode.UNKNOWN)
    return RemoteError(code, error.message or "", dict(error.details or {}))
