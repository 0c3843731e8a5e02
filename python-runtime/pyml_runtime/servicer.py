"""The `pyml.v1.ModelRuntime` gRPC servicer: converts messages, calls the dataplane, maps errors.

Errors are reported through the one table in `errors.GRPC_STATUS`, with the message as the
status details and two trailers for machines:

    pyml-error           the ErrorKind name (INVALID_INPUT, MODEL_ERROR, NOT_READY, ...)
    pyml-exception-type  the model's exception type (model errors only)

A GetMetadata from a gateway of a sidecar protocol this runtime cannot serve is refused first
(FAILED_PRECONDITION, PROTOCOL_MISMATCH), with what the runtime is in two more trailers
(`protocol.refusal_trailers`).

Predict and the validation calls hold one of `max_calls` slots while they run (decoding, the
model, encoding); without a free slot a call is answered RESOURCE_EXHAUSTED at once, so the
server's other threads stay free for health checks and metadata.

Predict and PredictBatch take and answer wire bytes (`add_to_server` registers them so), read
and written with `payload_wire`: the Arrow bytes of a request are views of its message (not
copied by protobuf twice) and those of an answer are copied once, into its message. A
malformed message is INVALID_INPUT, like a malformed Arrow stream.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import NoReturn, TypeVar

import grpc

from pyml_runtime import payload_wire, protocol
from pyml_runtime.batching import Answer
from pyml_runtime.dataplane import Dataplane, RuntimeMetadata
from pyml_runtime.errors import ErrorKind, PymlError, invalid_input, resource_exhausted
from pyml_runtime.ipc_budget import ENV_PREFIX
from pyml_runtime.payload_wire import WireFormatError, WirePayload
from pyml_runtime.v1 import payload_pb2, runtime_pb2, runtime_pb2_grpc

# Payloads in one PredictBatch at most (the gateway sends far fewer).
MAX_BATCH_PAYLOADS = 1024
# The calls in flight (Predict and the validation calls): the setting and its default.
MAX_CONCURRENT_PREDICTS_ENV = ENV_PREFIX + "MAX_CONCURRENT_PREDICTS"
DEFAULT_MAX_CONCURRENT_PREDICTS = 6
ERROR_TRAILER = "pyml-error"
EXCEPTION_TYPE_TRAILER = "pyml-exception-type"
_KIND_TO_PROTO = {
    "dataframe": payload_pb2.PAYLOAD_KIND_DATAFRAME,
    "tensors": payload_pb2.PAYLOAD_KIND_TENSORS,
}

# The methods whose requests and answers are wire bytes, read and written here.
WIRE_METHODS = ("Predict", "PredictBatch")
_BATCH_PAYLOADS = runtime_pb2.PredictBatchRequest.PAYLOADS_FIELD_NUMBER
_BATCH_OUTCOMES = runtime_pb2.PredictBatchResponse.OUTCOMES_FIELD_NUMBER
_OUTCOME_PAYLOAD = runtime_pb2.PredictOutcome.PAYLOAD_FIELD_NUMBER
_OUTCOME_ERROR = runtime_pb2.PredictOutcome.ERROR_FIELD_NUMBER

log = logging.getLogger(__name__)
T = TypeVar("T")


class ModelRuntimeServicer(runtime_pb2_grpc.ModelRuntimeServicer):
    """`dataplane` returns None while the model is still loading."""

    def __init__(
        self,
        dataplane: Callable[[], Dataplane | None],
        name: str,
        max_calls: int = DEFAULT_MAX_CONCURRENT_PREDICTS,
    ) -> None:
        self._dataplane = dataplane
        self._name = name
        self._max_calls = max_calls
        self._slots = threading.BoundedSemaphore(max_calls)

    def Predict(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        """A Payload's wire bytes in, a Payload's wire bytes out."""

        def predict(dp: Dataplane) -> bytes:
            payload = _read(dp, "Payload", lambda: payload_wire.read_payload(request))
            output = dp.predict_buffer(payload.kind, payload.arrow_ipc)
            return payload_wire.payload_message(_KIND_TO_PROTO[dp.kind], output)

        return self._run_bounded(context, predict)

    def PredictBatch(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        """A PredictBatchRequest's wire bytes in, a PredictBatchResponse's out. One slot for
        the whole batch; one outcome per payload, errors as Predict's."""

        def predict(dp: Dataplane) -> bytes:
            views = _read(
                dp,
                "PredictBatchRequest",
                lambda: payload_wire.read_messages(request, _BATCH_PAYLOADS),
            )
            if len(views) > MAX_BATCH_PAYLOADS:  # counted before any payload is read
                raise invalid_input(
                    f"model '{dp.name}': a batch of {len(views)} payloads "
                    f"(expected: at most {MAX_BATCH_PAYLOADS})"
                )
            payloads = _read(dp, "PredictBatchRequest", lambda: _batch_payloads(views))
            outcomes = dp.predict_batch([(p.kind, p.arrow_ipc) for p in payloads])
            return _batch_response(_KIND_TO_PROTO[dp.kind], outcomes)

        return self._run_bounded(context, predict)

    def GetMetadata(
        self, request: runtime_pb2.GetMetadataRequest, context: grpc.ServicerContext
    ) -> runtime_pb2.ModelMetadata:
        # First, loaded or not: a gateway this runtime cannot serve learns so at once.
        if not protocol.accepts(request.gateway_protocol):
            refusal = protocol.refusal(
                self._name, request.gateway_protocol, request.gateway_version
            )
            log.warning("%s", refusal.message)  # in the container's log too, for its operator
            _abort(context, refusal, protocol.refusal_trailers())
        return self._run(context, lambda dp: _metadata_message(dp.metadata()))

    def GetValidationInput(
        self, request: runtime_pb2.GetValidationInputRequest, context: grpc.ServicerContext
    ) -> payload_pb2.Payload:
        return self._run_bounded(
            context,
            lambda dp: payload_pb2.Payload(
                kind=_KIND_TO_PROTO[dp.kind], arrow_ipc=dp.validation_input()
            ),
        )

    def CheckValidationOutput(
        self, request: payload_pb2.Payload, context: grpc.ServicerContext
    ) -> runtime_pb2.ValidationReport:
        def check(dp: Dataplane) -> runtime_pb2.ValidationReport:
            report = dp.check_validation_output(request.arrow_ipc)
            return runtime_pb2.ValidationReport(
                passed=report.passed, diff=report.diff, rows=report.rows
            )

        return self._run_bounded(context, check)

    def _run_bounded(self, context: grpc.ServicerContext, call: Callable[[Dataplane], T]) -> T:
        if not self._slots.acquire(blocking=False):
            _abort(context, self._busy())
        try:
            return self._run(context, call)
        finally:
            self._slots.release()

    def _busy(self) -> PymlError:
        return resource_exhausted(
            f"model '{self._name}' is busy: {self._max_calls} calls are already running "
            f"(limit: {MAX_CONCURRENT_PREDICTS_ENV}); retry later"
        )

    def _run(self, context: grpc.ServicerContext, call: Callable[[Dataplane], T]) -> T:
        result = self._call(call)
        if isinstance(result, PymlError):
            _abort(context, result)
        return result

    def _call(self, call: Callable[[Dataplane], T]) -> T | PymlError:
        # Errors are returned, not raised from here: context.abort must run outside any
        # `except Exception`, since it works by raising.
        dataplane = self._dataplane()
        if dataplane is None:
            return PymlError(ErrorKind.NOT_READY, f"model '{self._name}' is still loading")
        try:
            return call(dataplane)
        except PymlError as exc:
            if exc.kind is ErrorKind.MODEL_ERROR:
                log.warning("%s", exc.message, exc_info=exc.__cause__ or exc)
            return exc
        except Exception as exc:
            log.exception("internal error")
            return PymlError(ErrorKind.INTERNAL, f"internal error: {type(exc).__name__}: {exc}")


def add_to_server(servicer: ModelRuntimeServicer, server: grpc.Server) -> None:
    """The generated registration, but for `WIRE_METHODS`, whose messages stay bytes."""
    generated = _GeneratedHandlers()
    runtime_pb2_grpc.add_ModelRuntimeServicer_to_server(servicer, generated)  # type: ignore[no-untyped-call]
    handlers = dict(generated.handlers)
    for method in WIRE_METHODS:
        # No (de)serializer: gRPC hands over the request's bytes and sends the answer's.
        handlers[method] = grpc.unary_unary_rpc_method_handler(getattr(servicer, method))
    service = runtime_pb2.DESCRIPTOR.services_by_name["ModelRuntime"].full_name
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
    server.add_registered_method_handlers(service, handlers)  # type: ignore[attr-defined]


class _GeneratedHandlers:
    """Stands in for a server to catch the method handlers the generated code registers."""

    def __init__(self) -> None:
        self.handlers: dict[str, grpc.RpcMethodHandler[object, object]] = {}

    def add_generic_rpc_handlers(self, _: object) -> None:
        pass

    def add_registered_method_handlers(
        self, _: str, handlers: dict[str, grpc.RpcMethodHandler[object, object]]
    ) -> None:
        self.handlers = handlers


def _read(dp: Dataplane, message: str, read: Callable[[], T]) -> T:
    try:
        return read()
    except WireFormatError as exc:
        raise invalid_input(f"model '{dp.name}': malformed {message} message: {exc}") from None


def _batch_payloads(views: list[memoryview]) -> list[WirePayload]:
    payloads = []
    for index, view in enumerate(views):
        try:
            payloads.append(payload_wire.read_payload(view))
        except WireFormatError as exc:
            raise WireFormatError(f"payload {index}: {exc}") from None
    return payloads


def _batch_response(kind: int, outcomes: list[Answer | PymlError]) -> bytes:
    """A PredictBatchResponse's wire bytes, each answer's Arrow bytes copied once."""
    return b"".join(piece for outcome in outcomes for piece in _outcome_wire(kind, outcome))


def _outcome_wire(kind: int, outcome: Answer | PymlError) -> Iterator[bytes | Answer]:
    """One PredictOutcome as a field of a PredictBatchResponse, in pieces."""
    if isinstance(outcome, PymlError):
        error = _error_message(outcome).SerializeToString()
        body = [payload_wire.field_head(_OUTCOME_ERROR, len(error)), error]
    else:
        head = payload_wire.payload_head(kind, len(outcome))
        size = len(head) + len(outcome)
        body = [payload_wire.field_head(_OUTCOME_PAYLOAD, size), head, outcome]
    yield payload_wire.field_head(_BATCH_OUTCOMES, sum(len(piece) for piece in body))
    yield from body


def _abort(
    context: grpc.ServicerContext, error: PymlError, extra: tuple[tuple[str, str], ...] = ()
) -> NoReturn:
    trailers: tuple[tuple[str, str | bytes], ...] = ((ERROR_TRAILER, error.kind.name), *extra)
    if error.exception_type:
        trailers += ((EXCEPTION_TYPE_TRAILER, _ascii(error.exception_type)),)
    context.set_trailing_metadata(trailers)
    context.abort(error.grpc_status, error.message)


def _error_message(error: PymlError) -> runtime_pb2.PredictError:
    return runtime_pb2.PredictError(
        code=error.grpc_status.value[0],
        message=error.message,
        kind=error.kind.name,
        exception_type=_ascii(error.exception_type or ""),
    )


def _ascii(text: str) -> str:
    # Non-binary metadata values must be printable ASCII.
    return "".join(c if " " <= c <= "~" else "?" for c in text)


def _metadata_message(meta: RuntimeMetadata) -> runtime_pb2.ModelMetadata:
    return runtime_pb2.ModelMetadata(
        name=meta.name,
        version=meta.version,
        kind=_KIND_TO_PROTO[meta.kind],
        input_schema=meta.input_schema,
        output_schema=meta.output_schema,
        input_schema_text=meta.input_schema_text,
        output_schema_text=meta.output_schema_text,
        runtime_version=meta.runtime_version,
        python_version=meta.python_version,
        library_versions=meta.library_versions,
        model_class=meta.model_class,
        batching=runtime_pb2.BatchingSettings(
            enabled=meta.batching.enabled,
            max_rows=meta.batching.max_rows,
            max_delay_ms=meta.batching.max_delay_ms,
        ),
        sidecar_protocol=protocol.PROTOCOL_VERSION,
    )
