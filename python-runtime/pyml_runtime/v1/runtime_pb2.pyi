from pyml_runtime.v1 import payload_pb2 as _payload_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetMetadataRequest(_message.Message):
    __slots__ = ("gateway_protocol", "gateway_version")
    GATEWAY_PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_VERSION_FIELD_NUMBER: _ClassVar[int]
    gateway_protocol: int
    gateway_version: str
    def __init__(self, gateway_protocol: _Optional[int] = ..., gateway_version: _Optional[str] = ...) -> None: ...

class ModelMetadata(_message.Message):
    __slots__ = ("name", "version", "kind", "input_schema", "output_schema", "input_schema_text", "output_schema_text", "runtime_version", "python_version", "library_versions", "model_class", "batching", "sidecar_protocol")
    class LibraryVersionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_TEXT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_SCHEMA_TEXT_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_VERSION_FIELD_NUMBER: _ClassVar[int]
    PYTHON_VERSION_FIELD_NUMBER: _ClassVar[int]
    LIBRARY_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    MODEL_CLASS_FIELD_NUMBER: _ClassVar[int]
    BATCHING_FIELD_NUMBER: _ClassVar[int]
    SIDECAR_PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    kind: _payload_pb2.PayloadKind
    input_schema: bytes
    output_schema: bytes
    input_schema_text: str
    output_schema_text: str
    runtime_version: str
    python_version: str
    library_versions: _containers.ScalarMap[str, str]
    model_class: str
    batching: BatchingSettings
    sidecar_protocol: int
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., kind: _Optional[_Union[_payload_pb2.PayloadKind, str]] = ..., input_schema: _Optional[bytes] = ..., output_schema: _Optional[bytes] = ..., input_schema_text: _Optional[str] = ..., output_schema_text: _Optional[str] = ..., runtime_version: _Optional[str] = ..., python_version: _Optional[str] = ..., library_versions: _Optional[_Mapping[str, str]] = ..., model_class: _Optional[str] = ..., batching: _Optional[_Union[BatchingSettings, _Mapping]] = ..., sidecar_protocol: _Optional[int] = ...) -> None: ...

class BatchingSettings(_message.Message):
    __slots__ = ("enabled", "max_rows", "max_delay_ms")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    MAX_DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    max_rows: int
    max_delay_ms: int
    def __init__(self, enabled: _Optional[bool] = ..., max_rows: _Optional[int] = ..., max_delay_ms: _Optional[int] = ...) -> None: ...

class PredictBatchRequest(_message.Message):
    __slots__ = ("payloads",)
    PAYLOADS_FIELD_NUMBER: _ClassVar[int]
    payloads: _containers.RepeatedCompositeFieldContainer[_payload_pb2.Payload]
    def __init__(self, payloads: _Optional[_Iterable[_Union[_payload_pb2.Payload, _Mapping]]] = ...) -> None: ...

class PredictBatchResponse(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[PredictOutcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[PredictOutcome, _Mapping]]] = ...) -> None: ...

class PredictOutcome(_message.Message):
    __slots__ = ("payload", "error")
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    payload: _payload_pb2.Payload
    error: PredictError
    def __init__(self, payload: _Optional[_Union[_payload_pb2.Payload, _Mapping]] = ..., error: _Optional[_Union[PredictError, _Mapping]] = ...) -> None: ...

class PredictError(_message.Message):
    __slots__ = ("code", "message", "kind", "exception_type")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    EXCEPTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    kind: str
    exception_type: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., kind: _Optional[str] = ..., exception_type: _Optional[str] = ...) -> None: ...

class GetValidationInputRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ValidationReport(_message.Message):
    __slots__ = ("passed", "diff", "rows")
    PASSED_FIELD_NUMBER: _ClassVar[int]
    DIFF_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    passed: bool
    diff: str
    rows: int
    def __init__(self, passed: _Optional[bool] = ..., diff: _Optional[str] = ..., rows: _Optional[int] = ...) -> None: ...
