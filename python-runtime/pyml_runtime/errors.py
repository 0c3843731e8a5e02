"""One error vocabulary for the runtime, and the one table that maps it to gRPC status codes.

Every failure a caller can meet is a `PymlError` with an `ErrorKind`. Front ends (the gRPC
servicer, the CLI, the SDK) only translate kinds; they never invent their own messages, so a
bad column reads the same wherever it is reported:

    model 'x': column 'age': int64 (expected: float64)
    model 'x': missing column 'age' (expected columns: age, height)
    model 'x' raised ValueError: boom
"""

from __future__ import annotations

import enum

import grpc
import pyarrow as pa


class ErrorKind(enum.Enum):
    """What went wrong, by meaning. The name travels in the `pyml-error` gRPC trailer."""

    INVALID_INPUT = "INVALID_INPUT"
    """The caller's payload: kind, Arrow bytes, columns or tensors not what the model takes."""
    MODEL_ERROR = "MODEL_ERROR"
    """The model's own code raised, or returned something that is not a valid output."""
    MODEL_LOAD_ERROR = "MODEL_LOAD_ERROR"
    """The home folder could not be turned into a model instance."""
    NO_VALIDATION_DATA = "NO_VALIDATION_DATA"
    """The home folder has no validation data (or only half of it)."""
    VALIDATION_MISMATCH = "VALIDATION_MISMATCH"
    """The model's outputs on its validation input differ from the stored ones."""
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    """Over a budget of the runtime (decoded sizes, calls in flight): smaller or later may pass."""
    NOT_READY = "NOT_READY"
    """The runtime is still loading the model."""
    PROTOCOL_MISMATCH = "PROTOCOL_MISMATCH"
    """The gateway speaks a sidecar protocol this runtime cannot serve (see `protocol`)."""
    INTERNAL = "INTERNAL"
    """A bug in PyML itself."""


# Arrow's own errors, and what its Python layer raises for bad input.
ARROW_ERRORS = (pa.ArrowException, ValueError, TypeError, OSError, KeyError, IndexError)


def describe_arrow_error(exc: BaseException, what: str = "malformed Arrow IPC stream") -> str:
    """`what`, then the first line of an Arrow error (its type's name if it says nothing)."""
    lines = str(exc).strip().splitlines()
    return f"{what}: {lines[0] if lines else type(exc).__name__}"


# The one table from error kinds to gRPC codes (DESIGN.md §6.3: codes by meaning).
GRPC_STATUS: dict[ErrorKind, grpc.StatusCode] = {
    ErrorKind.INVALID_INPUT: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorKind.MODEL_ERROR: grpc.StatusCode.INTERNAL,
    ErrorKind.MODEL_LOAD_ERROR: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorKind.NO_VALIDATION_DATA: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorKind.VALIDATION_MISMATCH: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorKind.RESOURCE_EXHAUSTED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ErrorKind.NOT_READY: grpc.StatusCode.UNAVAILABLE,
    ErrorKind.PROTOCOL_MISMATCH: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorKind.INTERNAL: grpc.StatusCode.INTERNAL,
}


class PymlError(Exception):
    """A failure with a kind, a message for humans and, for model errors, the exception type."""

    def __init__(self, kind: ErrorKind, message: str, exception_type: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.exception_type = exception_type

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"PymlError({self.kind.name}, {self.message!r})"

    @property
    def grpc_status(self) -> grpc.StatusCode:
        return GRPC_STATUS[self.kind]


def model_error(model: str, exc: BaseException) -> PymlError:
    """The model's own exception, reported as the model's: its type and its message."""
    exc_type = type(exc).__name__
    return PymlError(
        ErrorKind.MODEL_ERROR, f"model '{model}' raised {exc_type}: {exc}", exception_type=exc_type
    )


def invalid_input(message: str) -> PymlError:
    return PymlError(ErrorKind.INVALID_INPUT, message)


def resource_exhausted(message: str) -> PymlError:
    return PymlError(ErrorKind.RESOURCE_EXHAUSTED, message)


def load_error(message: str, exception_type: str | None = None) -> PymlError:
    return PymlError(ErrorKind.MODEL_LOAD_ERROR, message, exception_type=exception_type)
