"""The `pyml.v1.ModelRuntime` gRPC servicer: converts messages, calls the dataplane, maps errors.

Errors are reported through the one table in `errors.GRPC_STATUS`, with the message as the
status details and two trailers for machines:

    pyml-error           the ErrorKind name (INVALID_INPUT, MODEL_ERROR, NOT_READY, ...)
    pyml-exception-type  the model's exception type (model errors only)

Predict and the validation calls hold one of `max_calls` slots while they run (decoding, the
model, encoding); without a free slot a call is answered RESOURCE_EXHAUSTED at once, so the
server's other threads stay free for health checks and metadata.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import NoReturn, TypeVar

import grpc

from pyml.v1 import payload_pb2, runtime_pb2, runtime_pb2_grpc
from pyml_runtime.dataplane import Dataplane, RuntimeMetadata
from pyml_runtime.errors import ErrorKind, PymlError, invalid_input, resource_exhausted
from pyml_runtime.ipc_budget import ENV_PREFIX

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

    def Predict(
        self, request: payload_pb2.Payload, context: grpc.ServicerContext
    ) -> payload_pb2.Payload:
        def predict(dp: Dataplane) -> payload_pb2.Payload:
            output = dp.predict_arrow(request.kind, request.arrow_ipc)
            return payload_pb2.Payload(kind=_KIND_TO_PROTO[dp.kind], arrow_ipc=output)

        return self._run_bounded(context, predict)

    def PredictBatch(
        self, request: runtime_pb2.PredictBatchRequest, context: grpc.ServicerContext
    ) -> runtime_pb2.PredictBatchResponse:
        """One slot for the whole batch; one outcome per payload, errors as Predict's."""

        def predict(dp: Dataplane) -> runtime_pb2.PredictBatchResponse:
            if len(request.payloads) > MAX_BATCH_PAYLOADS:
                raise invalid_input(
                    f"model '{dp.name}': a batch of {len(request.payloads)} payloads "
                    f"(expected: at most {MAX_BATCH_PAYLOADS})"
                )
            outcomes = dp.predict_batch([(p.kind, p.arrow_ipc) for p in request.payloads])
            kind = _KIND_TO_PROTO[dp.kind]
            return runtime_pb2.PredictBatchResponse(
                outcomes=[_outcome(kind, outcome) for outcome in outcomes]
            )

        return self._run_bounded(context, predict)

    def GetMetadata(
        self, request: runtime_pb2.GetMetadataRequest, context: grpc.ServicerContext
    ) -> runtime_pb2.ModelMetadata:
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


def _abort(context: grpc.ServicerContext, error: PymlError) -> NoReturn:
    trailers: tuple[tuple[str, str | bytes], ...] = ((ERROR_TRAILER, error.kind.name),)
    if error.exception_type:
        trailers += ((EXCEPTION_TYPE_TRAILER, _ascii(error.exception_type)),)
    context.set_trailing_metadata(trailers)
    context.abort(error.grpc_status, error.message)


def _outcome(
    kind: payload_pb2.PayloadKind, outcome: bytes | PymlError
) -> runtime_pb2.PredictOutcome:
    if isinstance(outcome, PymlError):
        return runtime_pb2.PredictOutcome(
            error=runtime_pb2.PredictError(
                code=outcome.grpc_status.value[0],
                message=outcome.message,
                kind=outcome.kind.name,
                exception_type=_ascii(outcome.exception_type or ""),
            )
        )
    return runtime_pb2.PredictOutcome(payload=payload_pb2.Payload(kind=kind, arrow_ipc=outcome))


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
    )
